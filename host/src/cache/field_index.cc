#include "cache/field_index.h"

#include <simdjson.h>

#include <algorithm>

#include "cache/label_selector.h"
#include "common/limits.h"

namespace wop::cache {
namespace {

using common::Status;
using common::StatusCode;

// RFC 6901: "" (the whole document) or "/"-prefixed tokens, "~" only as "~0" or "~1".
Status checkJsonPointer(std::string_view pointer) {
  if (pointer.size() > limits::kMaxJsonPointerBytes) {
    return {
        StatusCode::kInvalidArgument,
        "JSON pointer is longer than " + std::to_string(limits::kMaxJsonPointerBytes) + " bytes"};
  }
  if (!pointer.empty() && pointer.front() != '/')
    return {StatusCode::kInvalidArgument, "JSON pointer must start with \"/\""};
  for (size_t i = 0; i < pointer.size(); ++i) {
    const auto c = static_cast<unsigned char>(pointer[i]);
    if (c < 0x20 || c == 0x7f)
      return {StatusCode::kInvalidArgument, "JSON pointer has a control character"};
    if (c == '~' && (i + 1 == pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')))
      return {StatusCode::kInvalidArgument, "JSON pointer has a \"~\" not followed by 0 or 1"};
  }
  return Status::ok();
}

void addValue(std::vector<std::string>& values, std::string_view value) {
  if (value.size() > limits::kMaxIndexValueBytes) return;
  if (values.size() >= limits::kMaxIndexValuesPerObject) return;
  values.emplace_back(value);
}

// The string at pointer, or every string of the array there.
void pointerValues(simdjson::dom::element document, const std::string& pointer,
                   std::vector<std::string>& values) {
  simdjson::dom::element found;
  if (document.at_pointer(pointer).get(found) != simdjson::SUCCESS) return;
  std::string_view text;
  if (found.get(text) == simdjson::SUCCESS) {
    addValue(values, text);
    return;
  }
  simdjson::dom::array array;
  if (found.get(array) != simdjson::SUCCESS) return;
  for (auto element : array) {
    if (element.get(text) == simdjson::SUCCESS) addValue(values, text);
  }
}

void annotationValue(simdjson::dom::element document, const std::string& key,
                     std::vector<std::string>& values) {
  std::string_view text;
  if (document["metadata"]["annotations"][key].get(text) == simdjson::SUCCESS)
    addValue(values, text);
}

void sortUnique(std::vector<std::string>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

size_t stringBytes(const std::string& s) {
  // As CachedObject::memoryBytes: the string itself, and its heap beyond the small buffer.
  return sizeof(std::string) + (s.capacity() > 15 ? s.capacity() + 1 : 0);
}

// A node of a std::map / std::set / std::unordered_map, besides its value: pointers, colour,
// allocator rounding.
constexpr size_t kNodeBytes = 48;

}  // namespace

common::Result<IndexSpec> IndexSpec::make(From from, std::string argument) {
  Status status = from == From::kJsonPointer ? checkJsonPointer(argument) : checkLabelKey(argument);
  if (!status.isOk()) return status;
  return IndexSpec(from, std::move(argument));
}

const char* indexFromName(IndexSpec::From from) {
  switch (from) {
    case IndexSpec::From::kJsonPointer:
      return "jsonPointer";
    case IndexSpec::From::kLabel:
      return "label";
    case IndexSpec::From::kAnnotation:
      return "annotation";
  }
  return "";
}

std::string IndexSpec::id() const { return std::string(indexFromName(from_)) + ":" + argument_; }

std::vector<std::vector<std::string>> indexValues(const std::vector<IndexSpec>& specs,
                                                  const CachedObject& object) {
  std::vector<std::vector<std::string>> out(specs.size());
  if (specs.empty()) return out;
  const bool needsDocument = std::any_of(specs.begin(), specs.end(), [](const IndexSpec& spec) {
    return spec.from() != IndexSpec::From::kLabel;
  });
  // A parser of its own (the informer keeps none: one holds tens of KiB between documents).
  simdjson::dom::parser parser;
  simdjson::dom::element document;
  const bool parsed = needsDocument && parser.parse(object.json).get(document) == simdjson::SUCCESS;
  for (size_t i = 0; i < specs.size(); ++i) {
    const IndexSpec& spec = specs[i];
    switch (spec.from()) {
      case IndexSpec::From::kLabel:
        if (const std::string* value = object.label(spec.argument())) addValue(out[i], *value);
        break;
      case IndexSpec::From::kJsonPointer:
        if (parsed) pointerValues(document, spec.argument(), out[i]);
        break;
      case IndexSpec::From::kAnnotation:
        if (parsed) annotationValue(document, spec.argument(), out[i]);
        break;
    }
    sortUnique(out[i]);
  }
  return out;
}

void FieldIndex::set(const std::string& key, std::vector<std::string> values) {
  erase(key);
  if (values.empty()) return;
  for (const auto& value : values) {
    auto [entry, inserted] = byValue_.try_emplace(value);
    if (inserted) bytes_ += kNodeBytes + stringBytes(entry->first) + sizeof(entry->second);
    auto [slot, added] = entry->second.insert(key);
    if (added) bytes_ += kNodeBytes + stringBytes(*slot);
  }
  auto [entry, inserted] = byKey_.emplace(key, std::move(values));
  bytes_ += kNodeBytes + stringBytes(entry->first) + sizeof(entry->second);
  for (const auto& value : entry->second) bytes_ += stringBytes(value);
}

void FieldIndex::erase(const std::string& key) {
  auto found = byKey_.find(key);
  if (found == byKey_.end()) return;
  for (const auto& value : found->second) {
    auto entry = byValue_.find(value);
    if (entry == byValue_.end()) continue;
    if (auto slot = entry->second.find(key); slot != entry->second.end()) {
      bytes_ -= kNodeBytes + stringBytes(*slot);
      entry->second.erase(slot);
    }
    if (entry->second.empty()) {
      bytes_ -= kNodeBytes + stringBytes(entry->first) + sizeof(entry->second);
      byValue_.erase(entry);
    }
    bytes_ -= stringBytes(value);
  }
  bytes_ -= kNodeBytes + stringBytes(found->first) + sizeof(found->second);
  byKey_.erase(found);
}

std::vector<std::string> FieldIndex::keys(std::string_view value, std::string_view ns) const {
  std::vector<std::string> out;
  auto entry = byValue_.find(value);
  if (entry == byValue_.end()) return out;
  const auto& keys = entry->second;
  if (ns.empty()) return {keys.begin(), keys.end()};
  // Keys are "namespace/name", so one namespace is a contiguous range.
  const std::string prefix = std::string(ns) + "/";
  for (auto it = keys.lower_bound(prefix); it != keys.end() && it->starts_with(prefix); ++it)
    out.push_back(*it);
  return out;
}

}  // namespace wop::cache
