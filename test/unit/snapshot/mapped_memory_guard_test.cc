#include "snapshot/mapped_memory_guard.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/falloc.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "kube/temp_dir.h"
#include "snapshot/anonymous_memory.h"

namespace wop::snapshot {
namespace {

using snapshot::testing::AnonymousMemory;
using wop::testing::TempDir;

constexpr uint64_t kPages = 8;

// A file of kPages pages of 0x5a mapped MAP_PRIVATE | MAP_FIXED over memory, as a restore maps
// a layer over guest memory. Returns the open file (the caller closes it).
int mapFileOver(const std::string& path, const AnonymousMemory& memory) {
  const int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  EXPECT_GE(fd, 0);
  std::vector<uint8_t> bytes(kPages * kPageBytes, 0x5a);
  EXPECT_EQ(::pwrite(fd, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
  EXPECT_NE(
      ::mmap(memory.data(), bytes.size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0),
      MAP_FAILED);
  return fd;
}

// Reads every byte through a volatile pointer, so the compiler cannot skip the loads.
uint64_t sumOf(const uint8_t* data, uint64_t bytes) {
  uint64_t sum = 0;
  const volatile uint8_t* p = data;
  for (uint64_t i = 0; i < bytes; ++i) sum += p[i];
  return sum;
}

TEST(MappedMemoryGuardTest, ALayerTruncatedUnderAWatchedMappingFaultsTheGuardNotTheProcess) {
  TempDir temp;
  AnonymousMemory memory(kPages);
  const int fd = mapFileOver(temp.file("layer"), memory);
  auto guard = MappedMemoryGuard::watch(memory.data(), memory.size());
  ASSERT_TRUE(guard.isOk()) << guard.status().toString();
  EXPECT_EQ(memory.page(1)[0], 0x5a);  // read before: a page-cache page, still file-backed
  memory.page(2)[0] = 1;               // written before: a private copy
  EXPECT_FALSE((*guard)->faulted());

  ASSERT_EQ(::ftruncate(fd, kPageBytes), 0);  // only page 0 is left in the file

  EXPECT_EQ(memory.page(0)[0], 0x5a);
  EXPECT_EQ(sumOf(memory.page(1), (kPages - 1) * kPageBytes), 0u) << "lost pages read as zero";
  EXPECT_TRUE((*guard)->faulted());
  EXPECT_TRUE((*guard)->faultFlag()->load());
  memory.page(5)[9] = 7;  // and can be written
  EXPECT_EQ(memory.page(5)[9], 7);
  ::close(fd);
}

// The other way a file shrinks in place: a range collapsed out of its middle moves the rest up
// and cuts the tail off (ext4 and XFS; skipped where unsupported, as on tmpfs).
TEST(MappedMemoryGuardTest, ARangeCollapsedOutOfAWatchedLayerFaultsTheGuardNotTheProcess) {
  TempDir temp;
  AnonymousMemory memory(kPages);
  const int fd = mapFileOver(temp.file("layer"), memory);
  auto guard = MappedMemoryGuard::watch(memory.data(), memory.size());
  ASSERT_TRUE(guard.isOk());
  if (::fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, kPageBytes, 2 * kPageBytes) != 0) {
    ::close(fd);
    GTEST_SKIP() << "cannot collapse a range here: " << std::strerror(errno);
  }

  EXPECT_EQ(sumOf(memory.page(kPages - 2), 2 * kPageBytes), 0u) << "the cut-off tail";
  EXPECT_TRUE((*guard)->faulted());
  ::close(fd);
}

TEST(MappedMemoryGuardTest, GuardsOfOtherRangesStayUnfaulted) {
  TempDir temp;
  AnonymousMemory memory(kPages), other(kPages);
  const int fd = mapFileOver(temp.file("layer"), memory);
  auto guard = MappedMemoryGuard::watch(memory.data(), memory.size());
  auto otherGuard = MappedMemoryGuard::watch(other.data(), other.size());
  ASSERT_TRUE(guard.isOk() && otherGuard.isOk());
  ASSERT_EQ(::ftruncate(fd, 0), 0);

  EXPECT_EQ(memory.page(3)[0], 0);

  EXPECT_TRUE((*guard)->faulted());
  EXPECT_FALSE((*otherGuard)->faulted());
  ::close(fd);
}

// Truncates a mapped file under memory no guard watches (one watches another range, one
// watched it and is gone) and reads it: a SIGBUS nobody handles. The dying process removes
// the file and its folder first (the mapping keeps the file): no destructor runs after.
void readATruncatedUnwatchedMapping(const std::string& path) {
  AnonymousMemory memory(kPages);
  AnonymousMemory watched(kPages);
  const int fd = mapFileOver(path, memory);
  ::unlink(path.c_str());
  ::rmdir(std::filesystem::path(path).parent_path().c_str());
  auto guard = MappedMemoryGuard::watch(watched.data(), watched.size());
  {
    auto dropped = MappedMemoryGuard::watch(memory.data(), memory.size());
  }
  (void)::ftruncate(fd, 0);
  std::exit(static_cast<int>(sumOf(memory.data(), memory.size()) & 1));
}

// Outside every watched range (or after its guard is gone) a SIGBUS is what it always was:
// killed by SIGBUS, or (under AddressSanitizer, whose handler comes before ours) its report.
TEST(MappedMemoryGuardDeathTest, ASigbusOutsideWatchedMemoryStillEndsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  TempDir temp;
  EXPECT_DEATH(readATruncatedUnwatchedMapping(temp.file("unwatched")), "");
}

// A hole of a tmpfs file is allocated when a mapping reads it; on a full tmpfs that is a
// SIGBUS, and a layer written there before the tmpfs filled up has holes (its zero pages).
TEST(MappedMemoryGuardTest, AHoleOfAFileOnAFullTmpfsFaultsTheGuardNotTheProcess) {
  TempDir temp;
  const std::string mount = temp.file("small");
  std::filesystem::create_directories(mount);
  if (::mount("tmpfs", mount.c_str(), "tmpfs", 0, "size=64k") != 0)
    GTEST_SKIP() << "cannot mount a small tmpfs: " << std::strerror(errno);
  {
    AnonymousMemory memory(kPages);
    const int fd = ::open((mount + "/layer").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, kPages * kPageBytes), 0);  // all holes
    {
      std::ofstream filler(mount + "/filler", std::ios::binary);
      std::vector<char> block(kPageBytes, 'x');
      while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
      }
    }
    ASSERT_NE(::mmap(memory.data(), memory.size(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
                     fd, 0),
              MAP_FAILED);
    auto guard = MappedMemoryGuard::watch(memory.data(), memory.size());
    ASSERT_TRUE(guard.isOk());

    EXPECT_EQ(sumOf(memory.data(), memory.size()), 0u);

    EXPECT_TRUE((*guard)->faulted());
    ::close(fd);
  }
  ::umount2(mount.c_str(), MNT_DETACH);
}

}  // namespace
}  // namespace wop::snapshot
