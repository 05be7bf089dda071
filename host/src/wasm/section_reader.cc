#include "wasm/section_reader.h"

#include <algorithm>
#include <array>
#include <string>

namespace wop::wasm::binary {
namespace {

constexpr std::array<uint8_t, kModuleHeaderBytes> kHeader = {0x00, 0x61, 0x73, 0x6d,
                                                             0x01, 0x00, 0x00, 0x00};

// Rank of each section id in the required order (custom sections, 0, may go anywhere; the
// data count section comes before the code, the tag section between memories and globals).
int sectionRank(uint8_t id) {
  static constexpr std::array<int, 14> kRank = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6};
  return id < kRank.size() ? kRank[id] : -1;
}

}  // namespace

common::Result<SectionReader> SectionReader::open(std::span<const uint8_t> wasm) {
  if (wasm.size() < kHeader.size() || !std::equal(kHeader.begin(), kHeader.end(), wasm.begin())) {
    return Status(StatusCode::kInvalidArgument,
                  "not a core WebAssembly module (bad magic or version)");
  }
  return SectionReader(ByteReader(wasm.subspan(kHeader.size()), kHeader.size()));
}

Status SectionReader::next(std::optional<Section>& out) {
  out.reset();
  if (reader_.atEnd()) return Status::ok();
  Section section;
  section.start = reader_.offset();
  uint32_t size = 0;
  std::optional<ByteReader> body;
  if (!reader_.readByte(section.id) || !reader_.readU32(size) || !reader_.sub(size, body)) {
    return malformed(reader_, "section header or size");
  }
  section.end = reader_.offset();
  section.body = *body;
  const int rank = sectionRank(section.id);
  if (rank < 0) return malformed(reader_, "section id " + std::to_string(section.id));
  if (section.id != kCustomSection) {
    if (rank <= lastRank_) {
      return malformed(reader_, "order of section " + std::to_string(section.id));
    }
    lastRank_ = rank;
  }
  out = section;
  return Status::ok();
}

}  // namespace wop::wasm::binary
