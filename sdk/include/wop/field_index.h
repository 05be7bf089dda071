// IndexExtractor: where a field index (Controller::IndexField, controller-runtime's IndexField)
// takes an object's values from. The host keeps the index in its informer cache and reads by it
// (Client::listByIndex) without entering the guest, so the extractor is a description, not a
// function: a JSON pointer (RFC 6901) to a string or an array of strings, a label key, or an
// annotation key. Values the host cannot express this way (two fields joined, a field of every
// element of an array of objects) are kept by writing them into a label or annotation first.
//
//   Controller("consumers")
//       .For(Consumer)
//       .IndexField(Consumer, "spec.sourceRef", IndexExtractor::jsonPointer("/spec/sourceRef"));
//
// Limits (wop_abi.h): WOP_MAX_INDEXES per operator, a pointer of WOP_MAX_JSON_POINTER_BYTES;
// values longer than WOP_MAX_INDEX_VALUE_BYTES and values beyond the first
// WOP_MAX_INDEX_VALUES_PER_OBJECT of one object are not indexed.
#pragma once

#include <string>
#include <utility>

namespace wop::sdk {

struct IndexExtractor {
  enum class From { JsonPointer, Label, Annotation };

  static IndexExtractor jsonPointer(std::string pointer) {
    return {From::JsonPointer, std::move(pointer)};
  }
  static IndexExtractor label(std::string key) { return {From::Label, std::move(key)}; }
  static IndexExtractor annotation(std::string key) { return {From::Annotation, std::move(key)}; }

  From from;
  std::string argument;  // the pointer, or the key
};

}  // namespace wop::sdk
