// Arbitrary bytes as a snapshot layer header: parsing must return a header or a Status, never
// crash, hang or overread. The bytes are parsed twice: as they are, and with the header checksum
// made right, so the fuzzer gets past the checksum into the field checks. A header that parses
// must have runs a restore can map as they are (sorted, disjoint, inside memory), and must
// encode and parse back to the same fields.
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "snapshot/layer_format.h"

namespace {

using wop::snapshot::kPageBytes;
using wop::snapshot::LayerHeader;

constexpr size_t kSizeAt = 12;
constexpr size_t kChecksumAt = 16;
constexpr size_t kFixedBytes = 24;

void checkParsed(const LayerHeader& header) {
  uint64_t end = 0;
  for (const auto& run : header.runs) {
    if (run.pageCount == 0 || run.firstPage < end) __builtin_trap();
    end = run.firstPage + run.pageCount;
    if (end < run.firstPage || end > header.memoryBytes / kPageBytes) __builtin_trap();
  }
  LayerHeader copy = header;
  auto again = wop::snapshot::parseLayerHeader(wop::snapshot::encodeLayerHeader(copy));
  if (!again.isOk()) __builtin_trap();
  if (again->sequence != header.sequence || again->parentSequence != header.parentSequence ||
      again->parentChecksum != header.parentChecksum ||
      again->moduleIdentity != header.moduleIdentity || again->memoryBytes != header.memoryBytes ||
      again->blockChecksums != header.blockChecksums || again->globals != header.globals ||
      again->runs != header.runs) {
    __builtin_trap();
  }
}

void parse(std::span<const uint8_t> bytes) {
  auto header = wop::snapshot::parseLayerHeader(bytes);
  if (header.isOk()) checkParsed(*header);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  parse({data, size});
  if (size < kFixedBytes) return 0;
  std::vector<uint8_t> resealed(data, data + size);
  uint32_t headerBytes = 0;
  std::memcpy(&headerBytes, resealed.data() + kSizeAt, 4);
  if (headerBytes < kFixedBytes || headerBytes > size) return 0;
  std::memset(resealed.data() + kChecksumAt, 0, 8);
  const uint64_t checksum = XXH3_64bits(resealed.data(), headerBytes);
  std::memcpy(resealed.data() + kChecksumAt, &checksum, 8);
  parse(resealed);
  return 0;
}
