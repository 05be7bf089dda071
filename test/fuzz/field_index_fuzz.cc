// A guest's extractor (the first line: "jsonPointer:", "label:" or "annotation:" and its
// argument) and an object from the API server (the rest): checking the extractor returns a
// Status, and extracting values from any object stays within the named bounds, never crashes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "cache/field_index.h"
#include "common/limits.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  const std::string_view line = input.substr(0, newline);
  using From = wop::cache::IndexSpec::From;
  From from = From::kJsonPointer;
  std::string_view argument;
  for (auto [prefix, kind] : {std::pair{std::string_view("jsonPointer:"), From::kJsonPointer},
                              std::pair{std::string_view("label:"), From::kLabel},
                              std::pair{std::string_view("annotation:"), From::kAnnotation}}) {
    if (line.starts_with(prefix)) {
      from = kind;
      argument = line.substr(prefix.size());
    }
  }
  auto spec = wop::cache::IndexSpec::make(from, std::string(argument));
  if (!spec) return 0;
  simdjson::dom::parser parser;
  auto object = wop::cache::decodeObjectJson(parser, input.substr(newline + 1), {});
  if (!object) return 0;
  auto values = wop::cache::indexValues({*spec}, **object);
  if (values.size() != 1 || values[0].size() > wop::limits::kMaxIndexValuesPerObject)
    __builtin_trap();
  for (const auto& value : values[0]) {
    if (value.size() > wop::limits::kMaxIndexValueBytes) __builtin_trap();
  }
  wop::cache::FieldIndex index;
  index.set((*object)->key(), values[0]);
  index.erase((*object)->key());
  if (index.memoryBytes() != 0) __builtin_trap();
  return 0;
}
