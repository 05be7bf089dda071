#include "snapshot/operator_snapshot.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include "snapshot/dirty_pages.h"

namespace wop::snapshot {
namespace {

using common::Status;
using common::StatusCode;

Status ioError(const std::string& what, int error) {
  // A full disk is worth telling apart: the operator then simply stays resident. EFAULT: the
  // memory written from maps a layer that no longer covers it (the file shrank): its bytes are
  // lost, which is a snapshot fault, not a reason to stay resident.
  auto code = StatusCode::kInternal;
  if (error == ENOSPC || error == EDQUOT || error == EFBIG) code = StatusCode::kResourceExhausted;
  if (error == EFAULT) code = StatusCode::kDataLoss;
  return Status(code, what + ": " + std::strerror(error));
}

std::string parentOf(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string withoutTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// The bytes of a layer's non-zero blocks: what checking its data reads.
uint64_t checkedBytes(const LayerHeader& header) {
  uint64_t bytes = 0;
  const auto blocks = blocksOf(header.runs);
  for (size_t i = 0; i < blocks.size(); ++i) {
    if (header.blockChecksums[i] != 0) bytes += blocks[i].pageCount * kPageBytes;
  }
  return bytes;
}

FileState fileStateOf(const struct stat& info) {
  const auto ns = [](const timespec& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; };
  return {static_cast<uint64_t>(info.st_dev), static_cast<uint64_t>(info.st_ino),
          static_cast<uint64_t>(info.st_size), ns(info.st_mtim), ns(info.st_ctim)};
}

// File times come from a clock that may tick only every few milliseconds (the kernel's coarse
// clock), so a write within one tick of the last change could leave them as they were. A state
// is trusted only if it was read (fstat) when its change time was already older than that: any
// write after the read then shows a later change time.
constexpr std::chrono::milliseconds kFileTimeGranularity{20};

int64_t wallClockNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool settledWhenRead(const FileState& state, int64_t readAfterNs) {
  return readAfterNs - state.changedNs >= std::chrono::nanoseconds(kFileTimeGranularity).count();
}

bool verifiedBeforeRun(const LayerHeader& header) {
  return checkedBytes(header) <= kVerifyBeforeRunBytes;
}

Status writeAll(int fd, const uint8_t* data, uint64_t size, uint64_t offset,
                const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ioError("writing " + path, n < 0 ? errno : ENOSPC);
    data += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<uint64_t>(n);
  }
  return Status::ok();
}

void appendPage(std::vector<PageRun>& runs, uint64_t page) {
  if (!runs.empty() && runs.back().firstPage + runs.back().pageCount == page) {
    runs.back().pageCount++;
  } else {
    runs.push_back({page, 1});
  }
}

// Calls visit(from, to) for each range of [begin, end) where the file has data (SEEK_DATA /
// SEEK_HOLE), in order, stopping at the first error visit returns. A file system without hole
// reporting says "data" everywhere: then the whole range is one visit.
template <typename Visit>
Status forEachDataRange(int fd, uint64_t begin, uint64_t end, const std::string& path,
                        Visit visit) {
  uint64_t at = begin;
  while (at < end) {
    const off_t data = ::lseek(fd, static_cast<off_t>(at), SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // no data from here to the end of the file
      return ioError("looking for old data in " + path, errno);
    }
    if (static_cast<uint64_t>(data) >= end) break;
    const off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return ioError("looking for old data in " + path, errno);
    const uint64_t to = std::min<uint64_t>(static_cast<uint64_t>(hole), end);
    if (auto s = visit(static_cast<uint64_t>(data), to); !s.isOk()) return s;
    at = to;
  }
  return Status::ok();
}

// Punches holes wherever the file has data (an old layer's) except the pages the new layer
// writes (`keep`): what is punched reads back as zero, and its blocks and page cache are freed.
// Called before the new layer is written. Zeros written over the old data inside the new runs
// did the same for correctness, but left the old layer's pages outside them on disk and in the
// page cache: with swap on, the fleet's cgroup usage (page cache included) went from 133% of
// swap-off's to 240% once spares were rewritten in place. Returns false where the file system
// cannot punch holes (the caller then writes zeros instead).
common::Result<bool> punchOldData(int fd, uint64_t dataOffset, uint64_t memoryBytes,
                                  const std::vector<PageRun>& keep, const std::string& path) {
  auto next = keep.begin();
  bool unsupported = false;
  // [from, to) in pages of the memory image, less the kept runs (overwritten in place).
  auto punchPages = [&](uint64_t from, uint64_t to) -> Status {
    while (from < to) {
      while (next != keep.end() && next->firstPage + next->pageCount <= from) ++next;
      if (next != keep.end() && next->firstPage <= from) {
        from = next->firstPage + next->pageCount;
        continue;
      }
      const uint64_t stop = next != keep.end() ? std::min(to, next->firstPage) : to;
      if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                      static_cast<off_t>(dataOffset + from * kPageBytes),
                      static_cast<off_t>((stop - from) * kPageBytes)) != 0) {
        if (errno != EOPNOTSUPP && errno != ENOSYS) {
          return ioError("freeing old data in " + path, errno);
        }
        unsupported = true;
        return Status(StatusCode::kFailedPrecondition, "no hole punching");  // ends the walk
      }
      from = stop;
    }
    return Status::ok();
  };
  auto walked = forEachDataRange(
      fd, dataOffset, dataOffset + memoryBytes, path, [&](uint64_t data, uint64_t to) {
        // Whole pages, rounded outward: nothing new is written yet.
        return punchPages((std::max(data, dataOffset) - dataOffset) / kPageBytes,
                          (to - dataOffset + kPageBytes - 1) / kPageBytes);
      });
  if (unsupported) return false;
  if (!walked.isOk()) return walked;
  return true;
}

// Writes zeros wherever the file has data (an old layer's) inside the given page runs, so a
// sparse spare costs a few lseeks, not a write per page. Returns the bytes written.
common::Result<uint64_t> clearOldData(int fd, uint64_t dataOffset, const std::vector<PageRun>& runs,
                                      const std::string& path) {
  static const std::vector<uint8_t> zeros(kChecksumBlockPages * kPageBytes, 0);
  uint64_t written = 0;
  for (const auto& run : runs) {
    auto walked =
        forEachDataRange(fd, dataOffset + run.firstPage * kPageBytes,
                         dataOffset + (run.firstPage + run.pageCount) * kPageBytes, path,
                         [&](uint64_t data, uint64_t to) {
                           // Whole pages: the runs are page aligned, and so is what a layer ever
                           // wrote.
                           for (uint64_t offset = data / kPageBytes * kPageBytes; offset < to;
                                offset += zeros.size()) {
                             const uint64_t size = std::min<uint64_t>(zeros.size(), to - offset);
                             if (auto s = writeAll(fd, zeros.data(), size, offset, path); !s.isOk())
                               return s;
                             written += size;
                           }
                           return Status::ok();
                         });
    if (!walked.isOk()) return walked;
  }
  return written;
}

Status readAll(int fd, uint8_t* data, uint64_t size, uint64_t offset, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::pread(fd, data, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status(StatusCode::kDataLoss, path + " is truncated");
    data += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<uint64_t>(n);
  }
  return Status::ok();
}

std::vector<PageRun> mergeCloseRuns(std::vector<PageRun> runs, uint64_t gap) {
  std::vector<PageRun> merged;
  for (const auto& run : runs) {
    if (!merged.empty() &&
        run.firstPage - (merged.back().firstPage + merged.back().pageCount) <= gap) {
      merged.back().pageCount = run.firstPage + run.pageCount - merged.back().firstPage;
    } else {
      merged.push_back(run);
    }
  }
  return merged;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

bool DataCheck::goodAs(const FileState& state) const {
  std::lock_guard lock(mutex_);
  return good_ && *good_ == state;
}

void DataCheck::markGood(const FileState& state) {
  std::lock_guard lock(mutex_);
  good_ = state;
}

size_t RestorePlan::layersKnownGood() const {
  return static_cast<size_t>(
      std::count_if(layers_.begin(), layers_.end(), [](const Layer& l) { return l.knownGood; }));
}

RestorePlan::RestorePlan(RestorePlan&& other) noexcept
    : layers_(std::move(other.layers_)), lease_(std::move(other.lease_)) {
  other.layers_.clear();
}
RestorePlan& RestorePlan::operator=(RestorePlan&& other) noexcept {
  if (this != &other) {
    for (auto& layer : layers_) ::close(layer.fd);
    layers_ = std::move(other.layers_);
    lease_ = std::move(other.lease_);
    other.layers_.clear();
  }
  return *this;
}
RestorePlan::~RestorePlan() {
  for (auto& layer : layers_) ::close(layer.fd);
}

OperatorSnapshot::OperatorSnapshot(std::string directory, std::string moduleIdentity)
    : directory_(std::move(directory)), moduleIdentity_(std::move(moduleIdentity)) {}

std::string OperatorSnapshot::pathOf(uint64_t sequence) const {
  return directory_ + "/" + std::to_string(sequence) + ".snap";
}

common::Result<std::string> OperatorSnapshot::ensureDirectory() {
  if (::mkdir(directory_.c_str(), 0700) == 0) {
    // A first save (or one after a discard): the host's folder it went into must be private.
    if (auto s = checkPrivateFolder(parentOf(directory_)); !s.isOk()) {
      ::rmdir(directory_.c_str());
      return s;
    }
    return std::string();
  }
  if (errno == EEXIST) {
    if (auto s = checkPrivateFolder(directory_); !s.isOk()) return s;
    return std::string();
  }
  if (errno != ENOENT) return ioError("creating " + directory_, errno);
  // The host's folder (or the swap folder above it) was removed from under us: made again,
  // and what is found in their place must be as private as prepareSnapshotDirectory requires.
  const std::string host = parentOf(directory_);
  std::string recreated;
  for (const std::string& folder : {parentOf(host), host}) {
    if (::mkdir(folder.c_str(), 0700) == 0) {
      if (recreated.empty()) recreated = folder;
    } else if (errno != EEXIST) {
      return ioError("recreating " + folder, errno);
    }
    if (auto s = checkPrivateFolder(folder); !s.isOk()) return s;
  }
  if (::mkdir(directory_.c_str(), 0700) != 0 && errno != EEXIST)
    return ioError("creating " + directory_, errno);
  return recreated;
}

common::Result<OperatorSnapshot::Link> OperatorSnapshot::writeLayer(LayerHeader header,
                                                                    std::span<const uint8_t> memory,
                                                                    uint64_t* bytesWritten,
                                                                    std::string* recreated) {
  auto folder = ensureDirectory();
  if (!folder) return folder.status();
  *recreated = std::move(*folder);
  header.sequence = nextSequence_;
  header.moduleIdentity = moduleIdentity_;
  header.memoryBytes = memory.size();
  // One pass finds the non-zero pages (the only ones written) and checksums each block.
  std::vector<PageRun> written;
  std::vector<PageRun> zero;  // zero pages inside the runs: holes, unless a spare has data there
  for (const auto& block : blocksOf(header.runs)) {
    bool any = false;
    for (uint64_t page = block.firstPage; page < block.firstPage + block.pageCount; ++page) {
      if (isZeroPage(memory.data() + page * kPageBytes)) {
        appendPage(zero, page);
        continue;
      }
      any = true;
      appendPage(written, page);
    }
    header.blockChecksums.push_back(
        any ? blockChecksum(block.firstPage, memory.data() + block.firstPage * kPageBytes,
                            block.pageCount)
            : 0);
  }
  const auto headerBytes = encodeLayerHeader(header);

  const std::string path = pathOf(header.sequence);
  const std::string temporary = path + ".tmp";
  bool reusedSpare = false;
  Fd file{openForWriting(temporary, &reusedSpare)};
  if (file.fd < 0) return ioError("creating " + temporary, errno);
  auto fail = [&](Status status) {
    ::unlink(temporary.c_str());
    return status;
  };
  // Sized first, so pages never written read back as zero (holes) in a new file.
  if (::ftruncate(file.fd, static_cast<off_t>(header.dataOffset + memory.size())) != 0) {
    return fail(ioError("sizing " + temporary, errno));
  }
  // A spare is rewritten in place: its old pages must not show through the new layer's zero
  // pages (restore maps them, the data check reads them), and should not stay on disk.
  bool oldDataFreed = !reusedSpare;
  if (reusedSpare) {
    auto punched = punchOldData(file.fd, header.dataOffset, memory.size(), written, temporary);
    if (!punched) return fail(punched.status());
    oldDataFreed = *punched;
  }
  if (auto s = writeAll(file.fd, headerBytes.data(), headerBytes.size(), 0, temporary); !s.isOk())
    return fail(s);
  *bytesWritten = 0;
  for (const auto& run : written) {
    const uint64_t offset = run.firstPage * kPageBytes;
    const uint64_t size = run.pageCount * kPageBytes;
    if (auto s =
            writeAll(file.fd, memory.data() + offset, size, header.dataOffset + offset, temporary);
        !s.isOk()) {
      return fail(s);
    }
    *bytesWritten += size;
  }
  if (!oldDataFreed) {  // no hole punching here: zeros over the old data in the new runs
    auto cleared = clearOldData(file.fd, header.dataOffset, zero, temporary);
    if (!cleared) return fail(cleared.status());
    *bytesWritten += *cleared;
  }
  if (::close(file.fd) != 0) {
    file.fd = -1;
    return fail(ioError("closing " + temporary, errno));
  }
  file.fd = -1;
  // No fsync: snapshots only live as long as the host process (prepareSnapshotDirectory).
  if (::rename(temporary.c_str(), path.c_str()) != 0)
    return fail(ioError("renaming " + temporary, errno));
  nextSequence_++;
  return Link{header.sequence, header.headerChecksum};
}

int OperatorSnapshot::openForWriting(const std::string& temporary, bool* reusedSpare) {
  // The oldest spare no live plan may map; a spare gone from under us means a new file.
  const auto spare = std::find_if(spares_.begin(), spares_.end(),
                                  [](const Spare& s) { return s.lease.expired(); });
  if (spare != spares_.end()) {
    const std::string path = spare->path;
    spares_.erase(spare);
    if (::rename(path.c_str(), temporary.c_str()) == 0) {
      // Not truncated: on ext4, truncating a file to nothing frees (and discards) its blocks
      // and makes its close start writeback, a third of a swap-out's time (perf, ring N = 100).
      // writeLayer overwrites what the new layer needs instead.
      const int fd = ::open(temporary.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
      if (fd >= 0) {
        *reusedSpare = true;
        return fd;
      }
    }
  }
  return ::open(temporary.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
}

void OperatorSnapshot::retire(std::vector<Link> replaced) {
  for (auto& link : replaced) {
    const std::string path = pathOf(link.sequence);
    const std::string spare = directory_ + "/" + std::to_string(link.sequence) + ".spare";
    if (::rename(path.c_str(), spare.c_str()) == 0) spares_.push_back({spare, link.lease});
  }
  while (spares_.size() > kMaxSpares) {
    ::unlink(spares_.front().path.c_str());  // a mapping of it keeps its pages
    spares_.erase(spares_.begin());
  }
}

common::Result<SaveResult> OperatorSnapshot::save(std::span<uint8_t> memory,
                                                  const std::vector<GlobalValue>& globals,
                                                  bool restoredFromChain) {
  if (reinterpret_cast<uintptr_t>(memory.data()) % kPageBytes != 0 ||
      memory.size() % kPageBytes != 0) {
    return Status(StatusCode::kInvalidArgument, "guest memory is not page aligned");
  }
  LayerHeader header;
  header.globals = globals;
  bool full = true;
  if (restoredFromChain && !chain_.empty() && chain_.size() < kMaxLayers) {
    auto dirty = privatelyWrittenPages(memory.data(), memory.size());
    if (dirty) *dirty = mergeCloseRuns(std::move(*dirty), kMergeGapPages);
    if (dirty && dirty->size() <= kMaxDeltaRuns) {
      full = false;
      header.runs = std::move(*dirty);
      header.parentSequence = chain_.back().sequence;
      header.parentChecksum = chain_.back().headerChecksum;
    }
  }
  if (full && !memory.empty()) header.runs = {{0, memory.size() / kPageBytes}};
  SaveResult result;
  auto link = writeLayer(std::move(header), memory, &result.bytesWritten, &result.recreatedFolder);
  if (!link) return link.status();
  if (full) retire(std::exchange(chain_, {}));
  chain_.push_back(*link);
  result.full = full;
  result.layers = chain_.size();
  return result;
}

common::Result<RestorePlan> OperatorSnapshot::open() const {
  if (chain_.empty()) return Status(StatusCode::kNotFound, "no snapshot was taken");
  RestorePlan plan;
  plan.lease_ = std::make_shared<const int>(0);
  for (const auto& link : chain_) link.lease = plan.lease_;
  for (size_t i = 0; i < chain_.size(); ++i) {
    const std::string path = pathOf(chain_[i].sequence);
    const std::string layer = "snapshot layer " + path;
    RestorePlan::Layer entry;
    entry.path = path;
    entry.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (entry.fd < 0)
      return Status(StatusCode::kDataLoss, layer + " is missing: " + std::strerror(errno));
    plan.layers_.push_back(entry);
    const int64_t beforeStat = wallClockNs();
    struct stat info{};
    if (::fstat(entry.fd, &info) != 0) return ioError("reading " + layer, errno);
    // Headers fit in a page but for layers of many runs: read one page, more only if declared.
    const auto fileSize = static_cast<uint64_t>(info.st_size);
    std::vector<uint8_t> head(std::min<uint64_t>(fileSize, kPageBytes));
    if (auto s = readAll(entry.fd, head.data(), head.size(), 0, layer); !s.isOk()) return s;
    if (const uint64_t declared = declaredHeaderBytes(head); declared > head.size()) {
      head.resize(std::min({declared, fileSize, static_cast<uint64_t>(kMaxHeaderBytes)}));
      if (auto s = readAll(entry.fd, head.data(), head.size(), 0, layer); !s.isOk()) return s;
    }
    auto header = parseLayerHeader(head);
    if (!header) return header.status().withContext(layer);
    const auto& h = *header;
    if (h.moduleIdentity != moduleIdentity_) {
      return Status(StatusCode::kDataLoss,
                    layer + " was taken from another module (" + h.moduleIdentity + ")");
    }
    if (h.sequence != chain_[i].sequence || h.headerChecksum != chain_[i].headerChecksum) {
      return Status(StatusCode::kDataLoss, layer + " is not the layer that was written");
    }
    if (i > 0 && (h.parentSequence != chain_[i - 1].sequence ||
                  h.parentChecksum != chain_[i - 1].headerChecksum ||
                  h.memoryBytes < plan.layers_[i - 1].header.memoryBytes)) {
      return Status(StatusCode::kDataLoss, layer + " does not follow the layer before it");
    }
    if (static_cast<uint64_t>(info.st_size) != h.dataOffset + h.memoryBytes) {
      return Status(StatusCode::kDataLoss,
                    layer + " is truncated: " + std::to_string(info.st_size) + " bytes, expected " +
                        std::to_string(h.dataOffset + h.memoryBytes));
    }
    auto& opened = plan.layers_.back();
    opened.header = std::move(*header);
    opened.state = fileStateOf(info);
    opened.stateSettled = settledWhenRead(opened.state, beforeStat);
    opened.check = chain_[i].check;
    opened.knownGood = opened.check->goodAs(opened.state);
  }
  return plan;
}

common::Status OperatorSnapshot::map(const RestorePlan& plan, uint8_t* memory) const {
  for (const auto& layer : plan.layers_) {
    for (const auto& run : layer.header.runs) {
      void* at = memory + run.firstPage * kPageBytes;
      void* mapped = ::mmap(
          at, run.pageCount * kPageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, layer.fd,
          static_cast<off_t>(layer.header.dataOffset + run.firstPage * kPageBytes));
      if (mapped == MAP_FAILED) return ioError("mapping snapshot layer " + layer.path, errno);
    }
  }
  return Status::ok();
}

common::Status OperatorSnapshot::verifyData(const RestorePlan& plan, VerifyScope scope) {
  std::vector<uint8_t> buffer(kChecksumBlockPages * kPageBytes);
  for (const auto& layer : plan.layers_) {
    if (scope != VerifyScope::kAll &&
        verifiedBeforeRun(layer.header) != (scope == VerifyScope::kBeforeRun)) {
      continue;
    }
    if (layer.knownGood) continue;
    const std::string& path = layer.path;
    const auto blocks = blocksOf(layer.header.runs);
    // A zero block was written as holes: it is read only if the file has data there now (found
    // with SEEK_DATA, once per data extent), so checking costs what the data costs, not memory.
    uint64_t nextData = 0;  // the first data offset at or after the last block looked at
    bool nextDataKnown = false;
    for (size_t i = 0; i < blocks.size(); ++i) {
      const auto& block = blocks[i];
      const uint64_t begin = layer.header.dataOffset + block.firstPage * kPageBytes;
      const uint64_t bytes = block.pageCount * kPageBytes;
      if (layer.header.blockChecksums[i] == 0) {
        if (!nextDataKnown || nextData < begin) {
          const off_t found = ::lseek(layer.fd, static_cast<off_t>(begin), SEEK_DATA);
          nextData = found < 0 ? UINT64_MAX : static_cast<uint64_t>(found);  // ENXIO: none
          nextDataKnown = true;
        }
        if (nextData >= begin + bytes) continue;
      }
      if (auto s = readAll(layer.fd, buffer.data(), bytes, begin, path); !s.isOk()) return s;
      if (blockChecksum(block.firstPage, buffer.data(), block.pageCount) !=
          layer.header.blockChecksums[i]) {
        return Status(StatusCode::kDataLoss,
                      "snapshot layer " + path + " has a bad data checksum (pages " +
                          std::to_string(block.firstPage) + " to " +
                          std::to_string(block.firstPage + block.pageCount - 1) + ")");
      }
    }
    // Good as the file was at open(): a change since shows in the state the next open() sees
    // (unless the state was too fresh to tell: then it is checked again next time).
    if (layer.check && layer.stateSettled) layer.check->markGood(layer.state);
  }
  return Status::ok();
}

void OperatorSnapshot::discard() {
  std::error_code error;
  std::filesystem::remove_all(directory_, error);
  chain_.clear();
  spares_.clear();
}

common::Status checkPrivateFolder(const std::string& path) {
  struct stat info{};
  if (::lstat(path.c_str(), &info) != 0) return ioError("reading " + path, errno);
  if (S_ISLNK(info.st_mode))
    return Status(StatusCode::kFailedPrecondition, path + " is a symbolic link");
  if (!S_ISDIR(info.st_mode))
    return Status(StatusCode::kFailedPrecondition, path + " is not a folder");
  if (info.st_uid != ::geteuid()) {
    return Status(StatusCode::kFailedPrecondition,
                  path + " is owned by uid " + std::to_string(info.st_uid) +
                      ", not by this host's user (uid " + std::to_string(::geteuid()) + ")");
  }
  if ((info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return Status(StatusCode::kFailedPrecondition,
                  path + " is writable by other users (mode " + mode + ")");
  }
  return Status::ok();
}

common::Status prepareSnapshotDirectory(const std::string& requestedBase, const std::string& own) {
  const std::string base = withoutTrailingSlashes(requestedBase);  // "dir/" would follow a link
  std::error_code error;
  struct stat info{};
  if (::lstat(base.c_str(), &info) != 0 && errno == ENOENT) {
    // Created private; the folders above it are the user's business.
    std::filesystem::create_directories(parentOf(base), error);
    if (error) return Status(StatusCode::kInternal, "creating " + base + ": " + error.message());
    if (::mkdir(base.c_str(), 0700) != 0 && errno != EEXIST)
      return ioError("creating " + base, errno);
  }
  // Never chmod'ed or followed: a folder someone else can write to, or a link to one (the
  // system's temporary folder), would let them swap files under a mapped guest memory.
  if (auto s = checkPrivateFolder(base); !s.isOk()) return s;
  for (const auto& entry : std::filesystem::directory_iterator(base, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("host-", 0) != 0) continue;
    if (::lstat(entry.path().c_str(), &info) != 0 || !S_ISDIR(info.st_mode) ||
        info.st_uid != ::geteuid()) {
      continue;  // not a host folder this user made
    }
    const long pid = std::strtol(name.c_str() + 5, nullptr, 10);
    const bool running = pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
    if (!running || entry.path() == std::filesystem::path(own))
      std::filesystem::remove_all(entry.path(), error);
  }
  if (::mkdir(own.c_str(), 0700) != 0 && errno != EEXIST) return ioError("creating " + own, errno);
  return checkPrivateFolder(own);
}

}  // namespace wop::snapshot
