#include "snapshot/dirty_pages.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wop::snapshot {
namespace {

constexpr uint64_t kPresent = 1ull << 63;
constexpr uint64_t kSwapped = 1ull << 62;
constexpr uint64_t kFileOrSharedAnon = 1ull << 61;
constexpr size_t kEntriesPerRead = 4096;

int pagemapFd() {
  // Opened once: every swap-out reads it, and the open costs more than the read.
  static const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  return fd;
}

}  // namespace

common::Result<std::vector<PageRun>> privatelyWrittenPages(const uint8_t* base, uint64_t bytes) {
  const int fd = pagemapFd();
  if (fd < 0) {
    return common::Status(common::StatusCode::kUnavailable,
                          std::string("cannot open /proc/self/pagemap: ") + std::strerror(errno));
  }
  std::vector<PageRun> runs;
  const uint64_t firstVirtualPage = reinterpret_cast<uintptr_t>(base) / kPageBytes;
  const uint64_t pages = bytes / kPageBytes;
  uint64_t entries[kEntriesPerRead];
  for (uint64_t done = 0; done < pages;) {
    const uint64_t want = std::min<uint64_t>(kEntriesPerRead, pages - done);
    const ssize_t got =
        ::pread(fd, entries, want * 8, static_cast<off_t>((firstVirtualPage + done) * 8));
    if (got <= 0 || got % 8 != 0) {
      return common::Status(common::StatusCode::kUnavailable,
                            std::string("reading /proc/self/pagemap: ") +
                                (got < 0 ? std::strerror(errno) : "short read"));
    }
    const uint64_t n = static_cast<uint64_t>(got) / 8;
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t e = entries[i];
      const bool written = ((e & kPresent) && !(e & kFileOrSharedAnon)) || (e & kSwapped);
      if (!written) continue;
      const uint64_t page = done + i;
      if (!runs.empty() && runs.back().firstPage + runs.back().pageCount == page) {
        runs.back().pageCount++;
      } else {
        runs.push_back({page, 1});
      }
    }
    done += n;
  }
  return runs;
}

}  // namespace wop::snapshot
