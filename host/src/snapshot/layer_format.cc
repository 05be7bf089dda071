#include "snapshot/layer_format.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

#include "common/limits.h"

namespace wop::snapshot {
namespace {

using common::Status;
using common::StatusCode;

constexpr char kMagic[8] = {'W', 'O', 'P', 'S', 'N', 'A', 'P', '\0'};
constexpr size_t kChecksumAt = 16;  // after magic, version, header bytes
constexpr uint32_t kMaxNameBytes = 256;
constexpr uint32_t kMaxIdentityBytes = 256;
constexpr uint32_t kMaxRuns = 1 << 16;

class Writer {
 public:
  void u8(uint8_t v) { bytes.push_back(v); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void text(const std::string& s) {
    u32(static_cast<uint32_t>(s.size()));
    bytes.insert(bytes.end(), s.begin(), s.end());
  }
  std::vector<uint8_t> bytes;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  bool u8(uint8_t* v) {
    if (pos_ + 1 > bytes_.size()) return false;
    *v = bytes_[pos_++];
    return true;
  }
  bool u32(uint32_t* v) {
    if (pos_ + 4 > bytes_.size()) return false;
    *v = 0;
    for (int i = 0; i < 4; ++i) *v |= static_cast<uint32_t>(bytes_[pos_++]) << (8 * i);
    return true;
  }
  bool u64(uint64_t* v) {
    if (pos_ + 8 > bytes_.size()) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= static_cast<uint64_t>(bytes_[pos_++]) << (8 * i);
    return true;
  }
  bool text(std::string* s, uint32_t max) {
    uint32_t n = 0;
    if (!u32(&n) || n > max || pos_ + n > bytes_.size()) return false;
    s->assign(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return true;
  }
  size_t position() const { return pos_; }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

Status corrupt(const std::string& what) {
  return Status(StatusCode::kDataLoss, "snapshot header is corrupt: " + what);
}

}  // namespace

std::vector<uint8_t> encodeLayerHeader(LayerHeader& header) {
  Writer w;
  w.bytes.insert(w.bytes.end(), kMagic, kMagic + sizeof kMagic);
  w.u32(kFormatVersion);
  w.u32(0);  // header bytes, patched below
  w.u64(0);  // checksum, patched below
  w.u64(header.sequence);
  w.u64(header.parentSequence);
  w.u64(header.parentChecksum);
  w.text(header.moduleIdentity);
  w.u64(header.memoryBytes);
  const size_t dataOffsetAt = w.bytes.size();
  w.u64(0);  // data offset, patched below
  w.u32(static_cast<uint32_t>(header.globals.size()));
  for (const auto& g : header.globals) {
    w.text(g.name);
    w.u8(static_cast<uint8_t>(g.kind));
    w.u64(g.bits);
  }
  w.u32(static_cast<uint32_t>(header.runs.size()));
  for (const auto& run : header.runs) {
    w.u64(run.firstPage);
    w.u64(run.pageCount);
  }
  w.u32(static_cast<uint32_t>(header.blockChecksums.size()));
  for (const uint64_t checksum : header.blockChecksums) w.u64(checksum);
  const auto size = static_cast<uint32_t>(w.bytes.size());
  header.dataOffset = (size + kPageBytes - 1) / kPageBytes * kPageBytes;
  for (int i = 0; i < 4; ++i) w.bytes[12 + i] = static_cast<uint8_t>(size >> (8 * i));
  for (int i = 0; i < 8; ++i)
    w.bytes[dataOffsetAt + i] = static_cast<uint8_t>(header.dataOffset >> (8 * i));
  header.headerChecksum = XXH3_64bits(w.bytes.data(), w.bytes.size());
  for (int i = 0; i < 8; ++i)
    w.bytes[kChecksumAt + i] = static_cast<uint8_t>(header.headerChecksum >> (8 * i));
  return w.bytes;
}

size_t declaredHeaderBytes(std::span<const uint8_t> prefix) {
  if (prefix.size() < kChecksumAt) return 0;
  uint32_t size = 0;
  for (int i = 0; i < 4; ++i) size |= static_cast<uint32_t>(prefix[12 + i]) << (8 * i);
  return size;
}

common::Result<LayerHeader> parseLayerHeader(std::span<const uint8_t> bytes) {
  if (bytes.size() < 24 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return corrupt("not a snapshot (bad magic)");
  }
  Reader r(bytes.subspan(8));
  uint32_t version = 0, size = 0;
  uint64_t checksum = 0;
  r.u32(&version);
  r.u32(&size);
  r.u64(&checksum);
  if (version != kFormatVersion) {
    return Status(StatusCode::kDataLoss, "snapshot has format version " + std::to_string(version) +
                                             ", this host reads version " +
                                             std::to_string(kFormatVersion));
  }
  if (size < 24 || size > bytes.size() || size > kMaxHeaderBytes)
    return corrupt("header length " + std::to_string(size));
  std::vector<uint8_t> copy(bytes.begin(), bytes.begin() + size);
  std::memset(copy.data() + kChecksumAt, 0, 8);
  if (XXH3_64bits(copy.data(), copy.size()) != checksum) return corrupt("header checksum mismatch");

  LayerHeader h;
  h.headerChecksum = checksum;
  Reader f(bytes.subspan(24, size - 24));
  uint32_t globals = 0, runs = 0;
  if (!f.u64(&h.sequence) || !f.u64(&h.parentSequence) || !f.u64(&h.parentChecksum) ||
      !f.text(&h.moduleIdentity, kMaxIdentityBytes) || !f.u64(&h.memoryBytes) ||
      !f.u64(&h.dataOffset) || !f.u32(&globals) || globals > limits::kMaxSnapshotGlobals) {
    return corrupt("truncated fields");
  }
  for (uint32_t i = 0; i < globals; ++i) {
    GlobalValue g;
    uint8_t kind = 0;
    if (!f.text(&g.name, kMaxNameBytes) || !f.u8(&kind) || !f.u64(&g.bits) || kind > 3)
      return corrupt("global " + std::to_string(i));
    g.kind = static_cast<GlobalKind>(kind);
    h.globals.push_back(std::move(g));
  }
  if (!f.u32(&runs) || runs > kMaxRuns) return corrupt("run count");
  const uint64_t pages = h.memoryBytes / kPageBytes;
  uint64_t previousEnd = 0;
  for (uint32_t i = 0; i < runs; ++i) {
    PageRun run;
    if (!f.u64(&run.firstPage) || !f.u64(&run.pageCount)) return corrupt("truncated runs");
    // Sorted, disjoint, non-empty and inside memory: a run is mapped over guest memory as is.
    if (run.pageCount == 0 || run.firstPage < previousEnd || run.firstPage > pages ||
        run.pageCount > pages - run.firstPage) {
      return corrupt("run " + std::to_string(i) + " outside memory");
    }
    previousEnd = run.firstPage + run.pageCount;
    h.runs.push_back(run);
  }
  uint32_t blocks = 0;
  if (!f.u32(&blocks) || blocks > kMaxHeaderBytes / 8 || blocks != blockCount(h.runs))
    return corrupt("block count");
  h.blockChecksums.resize(blocks);
  for (auto& checksum : h.blockChecksums) {
    if (!f.u64(&checksum)) return corrupt("truncated block checksums");
  }
  if (h.memoryBytes % kPageBytes != 0 || h.dataOffset % kPageBytes != 0 || h.dataOffset < size) {
    return corrupt("memory size or data offset not page aligned");
  }
  return h;
}

size_t blockCount(const std::vector<PageRun>& runs) {
  size_t count = 0;
  for (const auto& run : runs)
    count += (run.pageCount + kChecksumBlockPages - 1) / kChecksumBlockPages;
  return count;
}

std::vector<PageRun> blocksOf(const std::vector<PageRun>& runs) {
  std::vector<PageRun> blocks;
  blocks.reserve(blockCount(runs));
  for (const auto& run : runs) {
    for (uint64_t page = run.firstPage; page < run.firstPage + run.pageCount;
         page += kChecksumBlockPages) {
      blocks.push_back({page, std::min(kChecksumBlockPages, run.firstPage + run.pageCount - page)});
    }
  }
  return blocks;
}

uint64_t blockChecksum(uint64_t firstPage, const uint8_t* data, uint64_t pages) {
  bool zero = true;
  for (uint64_t i = 0; i < pages && zero; ++i) zero = isZeroPage(data + i * kPageBytes);
  if (zero) return 0;
  const uint64_t checksum = XXH3_64bits_withSeed(data, pages * kPageBytes, firstPage);
  return checksum == 0 ? 1 : checksum;
}

bool isZeroPage(const uint8_t* page) {
  uint64_t any = 0;
  for (size_t i = 0; i < kPageBytes; i += 8) {
    uint64_t word;
    std::memcpy(&word, page + i, 8);
    any |= word;
  }
  return any == 0;
}

}  // namespace wop::snapshot
