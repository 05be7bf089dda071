// The on-disk format of one snapshot layer. An operator's snapshot is a chain of layers: a full
// layer (every page of linear memory) and then deltas (only the pages dirtied since the layer
// before was restored). Each layer file is a sparse image of the whole linear memory: a page of
// the layer sits at dataOffset + its memory offset, and zero pages are holes, never written. So a
// layer is restored by mapping its runs of pages copy-on-write, at the same offsets, over the
// guest's memory: nothing is read until the guest touches it.
//
//   offset 0      "WOPSNAP\0", u32 version, u32 header bytes, u64 header checksum (XXH3 of the
//                 header with this field zero), then the fields of LayerHeader below
//   dataOffset    memory image (page aligned); file size is exactly dataOffset + memoryBytes
//
// Everything is little-endian. The header checksum covers every field, including the data
// checksum (XXH3 over each non-zero page of the runs, with its page number, in order).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace wop::snapshot {

constexpr uint32_t kFormatVersion = 1;
constexpr uint64_t kPageBytes = 4096;
constexpr size_t kMaxHeaderBytes = 1 << 20;

enum class GlobalKind : uint8_t { kI32 = 0, kI64 = 1, kF32 = 2, kF64 = 3 };

struct GlobalValue {
  std::string name;  // the export name
  GlobalKind kind = GlobalKind::kI32;
  uint64_t bits = 0;  // the value's bit pattern, zero-extended
  bool operator==(const GlobalValue&) const = default;
};

struct PageRun {
  uint64_t firstPage = 0;
  uint64_t pageCount = 0;
  bool operator==(const PageRun&) const = default;
};

struct LayerHeader {
  uint64_t sequence = 0;        // increases along an operator's chain
  uint64_t parentSequence = 0;  // 0: a full layer
  uint64_t parentChecksum = 0;  // the parent's header checksum: a replaced parent is detected
  std::string moduleIdentity;   // module hash + engine fingerprint it was taken from
  uint64_t memoryBytes = 0;     // linear memory size when taken
  uint64_t dataOffset = 0;
  uint64_t dataChecksum = 0;
  std::vector<GlobalValue> globals;
  std::vector<PageRun> runs;  // the pages this layer holds

  // Filled in by parseLayerHeader.
  uint64_t headerChecksum = 0;
};

// Encodes a header (sets dataOffset to the first page boundary after it) and returns the bytes.
std::vector<uint8_t> encodeLayerHeader(LayerHeader& header);
// The header length a layer's first bytes declare (0 if too short to say): how much of the file
// parseLayerHeader needs, so a restore reads the header and nothing more.
size_t declaredHeaderBytes(std::span<const uint8_t> prefix);
// Decodes and checks magic, version, bounds and checksum; the error names what was wrong.
common::Result<LayerHeader> parseLayerHeader(std::span<const uint8_t> bytes);

// Hashes non-zero pages with their page numbers; the data checksum of a layer.
class DataChecksum {
 public:
  DataChecksum();
  ~DataChecksum();
  DataChecksum(const DataChecksum&) = delete;
  DataChecksum& operator=(const DataChecksum&) = delete;
  void addPage(uint64_t pageNumber, const uint8_t* page);
  uint64_t digest() const;

 private:
  void* state_;
};

bool isZeroPage(const uint8_t* page);

}  // namespace wop::snapshot
