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
// Everything is little-endian. The header checksum covers every field, including the block
// checksums: each run is cut into blocks of kChecksumBlockPages pages (the last one of a run may
// be shorter), and each block has a checksum (blockChecksum), 0 for a block of zero pages (all
// holes). So a restore can check any block it maps without reading the rest.
//
// Version 2: per-block checksums replaced version 1's one data checksum per layer.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace wop::snapshot {

constexpr uint32_t kFormatVersion = 2;
constexpr uint64_t kPageBytes = 4096;
// 64 KiB: one pread and one XXH3 per block when checking; 8 header bytes per 64 KiB of runs.
constexpr uint64_t kChecksumBlockPages = 16;
// Room for the block checksums of a 4 GiB memory (65536 blocks) and the largest run list.
constexpr size_t kMaxHeaderBytes = 2 << 20;

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
  std::vector<GlobalValue> globals;
  std::vector<PageRun> runs;  // the pages this layer holds
  // One per block of the runs, in order (blockCount(runs)); 0: a block of zero pages.
  std::vector<uint64_t> blockChecksums;

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

// The blocks of runs: each run cut into kChecksumBlockPages-page blocks from its first page.
size_t blockCount(const std::vector<PageRun>& runs);
std::vector<PageRun> blocksOf(const std::vector<PageRun>& runs);
// The checksum of a block of `pages` pages starting at page firstPage: 0 if every byte is zero,
// else an XXH3 of the bytes seeded with firstPage (never 0), so a block moved elsewhere fails.
uint64_t blockChecksum(uint64_t firstPage, const uint8_t* data, uint64_t pages);

bool isZeroPage(const uint8_t* page);

}  // namespace wop::snapshot
