#include "wasm/hidden_globals.h"

#include <optional>

#include "wasm/section_reader.h"
#include "wasm/wasm_reader.h"

namespace wop::wasm {
namespace {

using binary::ByteReader;
using binary::malformed;
using binary::Section;
using binary::SectionReader;
using common::Status;
using common::StatusCode;

void appendU32(std::vector<uint8_t>& out, uint32_t value) {
  do {
    uint8_t byte = value & 0x7f;
    value >>= 7;
    if (value != 0) byte |= 0x80;
    out.push_back(byte);
  } while (value != 0);
}

void appendName(std::vector<uint8_t>& out, const std::string& name) {
  appendU32(out, static_cast<uint32_t>(name.size()));
  out.insert(out.end(), name.begin(), name.end());
}

// Whether a section with this id comes after the export section (custom sections: no).
bool followsExports(uint8_t id) {
  return id == binary::kStartSection || id == binary::kElementSection ||
         id == binary::kCodeSection || id == binary::kDataSection ||
         id == binary::kDataCountSection;
}

}  // namespace

std::string hiddenGlobalExportName(uint32_t index) { return "wop.global." + std::to_string(index); }

common::Result<std::vector<uint8_t>> exportHiddenGlobals(std::span<const uint8_t> wasm,
                                                         const std::vector<uint32_t>& indices) {
  if (wasm.size() < binary::kModuleHeaderBytes)
    return Status(StatusCode::kInvalidArgument, "not a module");
  if (indices.empty()) return std::vector<uint8_t>(wasm.begin(), wasm.end());
  // Where the export section is (its whole extent and its body), or where one would go; every
  // section header is checked on the way.
  auto sections = SectionReader::open(wasm);
  if (!sections) return sections.status();
  std::optional<size_t> sectionStart, sectionEnd;
  std::optional<ByteReader> exports;
  while (true) {
    std::optional<Section> section;
    if (auto status = sections->next(section); !status.isOk()) return status;
    if (!section) break;
    if (sectionStart) continue;
    if (section->id == binary::kExportSection) {
      sectionStart = section->start;
      sectionEnd = section->end;
      exports = section->body;
    } else if (followsExports(section->id)) {
      sectionStart = sectionEnd = section->start;
    }
  }
  if (!sectionStart) sectionStart = sectionEnd = wasm.size();
  uint32_t count = 0;
  std::span<const uint8_t> entries;
  if (exports) {
    if (!exports->readU32(count)) return malformed(*exports, "export count");
    entries = wasm.subspan(exports->offset(), exports->remaining());
  }
  if (indices.size() > UINT32_MAX - count) {
    return Status(StatusCode::kInvalidArgument, "more than 2^32 - 1 exports");
  }
  std::vector<uint8_t> body;
  appendU32(body, count + static_cast<uint32_t>(indices.size()));
  body.insert(body.end(), entries.begin(), entries.end());
  for (uint32_t index : indices) {
    appendName(body, hiddenGlobalExportName(index));
    body.push_back(0x03);  // a global
    appendU32(body, index);
  }
  if (body.size() > UINT32_MAX) {
    return Status(StatusCode::kInvalidArgument,
                  "export section of " + std::to_string(body.size()) + " bytes");
  }
  std::vector<uint8_t> out(wasm.begin(), wasm.begin() + static_cast<ptrdiff_t>(*sectionStart));
  out.push_back(binary::kExportSection);
  appendU32(out, static_cast<uint32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  out.insert(out.end(), wasm.begin() + static_cast<ptrdiff_t>(*sectionEnd), wasm.end());
  return out;
}

}  // namespace wop::wasm
