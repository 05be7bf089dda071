#include "snapshot/operator_snapshot.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "snapshot/dirty_pages.h"

namespace wop::snapshot {
namespace {

using common::Status;
using common::StatusCode;

constexpr size_t kReadChunk = 1 << 20;

Status ioError(const std::string& what, int error) {
  // A full disk is worth telling apart: the operator then simply stays resident.
  const auto code = error == ENOSPC || error == EDQUOT || error == EFBIG
                        ? StatusCode::kResourceExhausted
                        : StatusCode::kInternal;
  return Status(code, what + ": " + std::strerror(error));
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

common::Result<OperatorSnapshot::Link> OperatorSnapshot::writeLayer(LayerHeader header,
                                                                    std::span<const uint8_t> memory,
                                                                    uint64_t* bytesWritten) {
  if (::mkdir(directory_.c_str(), 0700) != 0 && errno != EEXIST)
    return ioError("creating " + directory_, errno);
  header.sequence = nextSequence_;
  header.moduleIdentity = moduleIdentity_;
  header.memoryBytes = memory.size();
  // One pass finds the non-zero pages (the only ones written) and hashes them.
  DataChecksum checksum;
  std::vector<PageRun> written;
  for (const auto& run : header.runs) {
    for (uint64_t page = run.firstPage; page < run.firstPage + run.pageCount; ++page) {
      const uint8_t* data = memory.data() + page * kPageBytes;
      if (isZeroPage(data)) continue;
      checksum.addPage(page, data);
      if (!written.empty() && written.back().firstPage + written.back().pageCount == page) {
        written.back().pageCount++;
      } else {
        written.push_back({page, 1});
      }
    }
  }
  header.dataChecksum = checksum.digest();
  const auto headerBytes = encodeLayerHeader(header);

  const std::string path = pathOf(header.sequence);
  const std::string temporary = path + ".tmp";
  Fd file{openForWriting(temporary)};
  if (file.fd < 0) return ioError("creating " + temporary, errno);
  auto fail = [&](Status status) {
    ::unlink(temporary.c_str());
    return status;
  };
  // Sized first, so pages never written read back as zero (holes).
  if (::ftruncate(file.fd, static_cast<off_t>(header.dataOffset + memory.size())) != 0) {
    return fail(ioError("sizing " + temporary, errno));
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

int OperatorSnapshot::openForWriting(const std::string& temporary) {
  // The oldest spare no live plan may map; a spare gone from under us means a new file.
  const auto spare = std::find_if(spares_.begin(), spares_.end(),
                                  [](const Spare& s) { return s.lease.expired(); });
  if (spare != spares_.end()) {
    const std::string path = spare->path;
    spares_.erase(spare);
    if (::rename(path.c_str(), temporary.c_str()) == 0) {
      // Truncated to nothing first: its old pages must not show through the new layer's holes.
      const int fd = ::open(temporary.c_str(), O_TRUNC | O_WRONLY | O_CLOEXEC);
      if (fd >= 0) return fd;
    }
  }
  return ::open(temporary.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
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
  auto link = writeLayer(std::move(header), memory, &result.bytesWritten);
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
    entry.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (entry.fd < 0)
      return Status(StatusCode::kDataLoss, layer + " is missing: " + std::strerror(errno));
    plan.layers_.push_back(entry);
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
    plan.layers_.back().header = std::move(*header);
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

common::Status OperatorSnapshot::verifyData(const RestorePlan& plan) {
  std::vector<uint8_t> buffer(kReadChunk);
  for (const auto& layer : plan.layers_) {
    DataChecksum checksum;
    const std::string& path = layer.path;
    for (const auto& run : layer.header.runs) {
      for (uint64_t page = run.firstPage; page < run.firstPage + run.pageCount;) {
        const uint64_t pages =
            std::min<uint64_t>(kReadChunk / kPageBytes, run.firstPage + run.pageCount - page);
        if (auto s = readAll(layer.fd, buffer.data(), pages * kPageBytes,
                             layer.header.dataOffset + page * kPageBytes, path);
            !s.isOk()) {
          return s;
        }
        for (uint64_t i = 0; i < pages; ++i) {
          const uint8_t* data = buffer.data() + i * kPageBytes;
          if (!isZeroPage(data)) checksum.addPage(page + i, data);
        }
        page += pages;
      }
    }
    if (checksum.digest() != layer.header.dataChecksum) {
      return Status(StatusCode::kDataLoss, "snapshot layer " + path + " has a bad data checksum");
    }
  }
  return Status::ok();
}

void OperatorSnapshot::discard() {
  std::error_code error;
  std::filesystem::remove_all(directory_, error);
  chain_.clear();
  spares_.clear();
}

common::Status prepareSnapshotDirectory(const std::string& base, const std::string& own) {
  std::error_code error;
  std::filesystem::create_directories(base, error);
  if (error) return Status(StatusCode::kInternal, "creating " + base + ": " + error.message());
  ::chmod(base.c_str(), 0700);
  for (const auto& entry : std::filesystem::directory_iterator(base, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("host-", 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + 5, nullptr, 10);
    const bool running = pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
    if (!running || entry.path() == std::filesystem::path(own))
      std::filesystem::remove_all(entry.path(), error);
  }
  if (::mkdir(own.c_str(), 0700) != 0 && errno != EEXIST) return ioError("creating " + own, errno);
  return Status::ok();
}

}  // namespace wop::snapshot
