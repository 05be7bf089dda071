// Field indexes of an informer's store (controller-runtime's IndexField, client-go's Indexer):
// an IndexSpec says which values an object has, a FieldIndex finds the objects that have one.
//
// Why declarative: controller-runtime's extractor is a Go function run on every object of the
// informer. Ours would be guest code, and the host would have to enter (and maybe restore) the
// guest on every event of every object it caches, on the I/O thread, before the store could
// change: the cost principle 1 of DESIGN.md exists to avoid, and a trap there would stall every
// operator sharing the informer. So an index takes its values from the object itself, by one of
// three extractors, which the host runs in the same pass that decodes the object:
//   - a JSON pointer (RFC 6901) to a string, or to an array of strings (each one a value);
//   - a label key (its value), or an annotation key (its value).
// What it cannot express: computed values (two fields joined, a prefix cut, lower case), a
// field of every element of an array of objects (".spec.volumes[*].configMap.name"), values of
// other types than strings (numbers, booleans), or a key of the owner. Such an index is kept by
// the guest as a label or annotation it writes itself, or replaced by a mapper that lists and
// filters.
//
// Values are at most kMaxIndexValueBytes (longer ones are not indexed) and an object gives one
// index at most kMaxIndexValuesPerObject values (the rest are not indexed), so an index holds
// no more than its objects' own bytes plus a bounded overhead per value.
//
// Thread-safety: IndexSpec is a value; FieldIndex is not synchronised (the Store locks it).
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cache/cached_object.h"
#include "common/status.h"

namespace wop::cache {

class IndexSpec {
 public:
  enum class From { kJsonPointer, kLabel, kAnnotation };

  // Checks an extractor from a guest: a pointer must parse (empty, or "/"-separated tokens in
  // which "~" is followed by 0 or 1) and be at most kMaxJsonPointerBytes; a key must be a
  // qualified name (what the API server allows as a label or annotation key).
  static common::Result<IndexSpec> make(From from, std::string argument);

  From from() const { return from_; }
  const std::string& argument() const { return argument_; }
  // "jsonPointer:/spec/sourceRef", "label:app", "annotation:a/b": equal specs, equal ids.
  std::string id() const;

  friend bool operator==(const IndexSpec&, const IndexSpec&) = default;

 private:
  IndexSpec(From from, std::string argument) : from_(from), argument_(std::move(argument)) {}
  From from_;
  std::string argument_;
};

const char* indexFromName(IndexSpec::From from);

// The values of each spec for object, in the order of specs: sorted, without duplicates,
// bounded as above. The object's JSON is parsed once, and only if a spec needs more than its
// labels. An object whose JSON does not parse has no values.
std::vector<std::vector<std::string>> indexValues(const std::vector<IndexSpec>& specs,
                                                  const CachedObject& object);

// One spec's index of one store: value -> keys ("namespace/name"), and key -> values to forget
// an object's entries when it changes or goes.
class FieldIndex {
 public:
  // Replaces key's values (none: the key is forgotten).
  void set(const std::string& key, std::vector<std::string> values);
  void erase(const std::string& key);
  // Keys with value, in key order; those of namespace ns only, unless ns is empty.
  std::vector<std::string> keys(std::string_view value, std::string_view ns) const;
  // Bytes held, by an estimate of the strings and nodes (for the cache's accounting).
  size_t memoryBytes() const { return bytes_; }
  size_t values() const { return byValue_.size(); }

 private:
  std::map<std::string, std::set<std::string, std::less<>>, std::less<>> byValue_;
  std::unordered_map<std::string, std::vector<std::string>> byKey_;
  size_t bytes_ = 0;
};

}  // namespace wop::cache
