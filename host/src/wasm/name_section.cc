#include "wasm/name_section.h"

#include <string_view>

namespace wop::wasm::binary {
namespace {

constexpr uint8_t kFunctionNames = 1;
constexpr uint8_t kGlobalNames = 7;

// A name map: a count, then (index, name) pairs.
Status validateNameMap(ByteReader reader) {
  uint32_t count = 0;
  if (auto status = readCount(reader, UINT32_MAX, "name map count", count); !status.isOk())
    return status;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t index = 0;
    std::string_view name;
    if (!reader.readU32(index) || !reader.readName(name)) {
      return malformed(reader, "name map entry");
    }
  }
  if (!reader.atEnd()) return malformed(reader, "name map end");
  return Status::ok();
}

std::optional<std::string_view> lookupName(const std::optional<ByteReader>& map, uint32_t index) {
  if (!map) return std::nullopt;
  ByteReader reader = *map;  // validated by validateNameMap
  uint32_t count = 0;
  if (!reader.readU32(count)) return std::nullopt;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t entry = 0;
    std::string_view name;
    if (!reader.readU32(entry) || !reader.readName(name)) break;
    if (entry == index) return name;
  }
  return std::nullopt;
}

std::string describe(const char* kind, uint32_t index, const std::optional<ByteReader>& names) {
  std::string out = std::string(kind) + " " + std::to_string(index);
  if (auto name = lookupName(names, index)) out += " ($" + printable(*name) + ")";
  return out;
}

}  // namespace

Status NameSection::parse(ByteReader payload) {
  while (!payload.atEnd()) {
    uint8_t id = 0;
    uint32_t size = 0;
    std::optional<ByteReader> body;
    if (!payload.readByte(id) || !payload.readU32(size) || !payload.sub(size, body)) {
      return malformed(payload, "name subsection");
    }
    std::optional<ByteReader>* map = id == kFunctionNames ? &functions_
                                     : id == kGlobalNames ? &globals_
                                                          : nullptr;
    if (map == nullptr || *map) continue;  // the first of each kind counts
    if (auto status = validateNameMap(*body); !status.isOk()) return status;
    *map = body;
  }
  return Status::ok();
}

std::string NameSection::describeFunction(uint32_t index) const {
  return describe("function", index, functions_);
}

std::string NameSection::describeGlobal(uint32_t index) const {
  return describe("global", index, globals_);
}

}  // namespace wop::wasm::binary
