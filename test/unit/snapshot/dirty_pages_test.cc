#include "snapshot/dirty_pages.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vector>

#include "kube/temp_dir.h"
#include "snapshot/anonymous_memory.h"

namespace wop::snapshot {
namespace {

using snapshot::testing::AnonymousMemory;
using ::testing::ElementsAre;
using wop::testing::TempDir;

constexpr uint64_t kPages = 16;

// A private (copy-on-write) mapping of a file of kPages non-zero pages, as a restore makes.
class PrivateFileMapping {
 public:
  explicit PrivateFileMapping(const std::string& path) {
    const int fd = ::open(path.c_str(), O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return;
    std::vector<uint8_t> contents(kPages * kPageBytes, 0x42);
    const bool written =
        ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size());
    void* at = ::mmap(nullptr, contents.size(), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (written && at != MAP_FAILED) data_ = static_cast<uint8_t*>(at);
  }
  ~PrivateFileMapping() {
    if (data_ != nullptr) ::munmap(data_, kPages * kPageBytes);
  }
  PrivateFileMapping(const PrivateFileMapping&) = delete;
  PrivateFileMapping& operator=(const PrivateFileMapping&) = delete;

  uint8_t* data() const { return data_; }

 private:
  uint8_t* data_ = nullptr;
};

uint64_t sumOfAllBytes(const uint8_t* data, uint64_t size) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < size; ++i) sum += data[i];
  return sum;
}

TEST(DirtyPagesTest, AFreshFileMappingHasNoWrittenPagesEvenAfterReads) {
  TempDir dir;
  PrivateFileMapping mapping(dir.file("layer"));
  ASSERT_NE(mapping.data(), nullptr);

  EXPECT_EQ(sumOfAllBytes(mapping.data(), kPages * kPageBytes), kPages * kPageBytes * 0x42);
  auto runs = privatelyWrittenPages(mapping.data(), kPages * kPageBytes);

  ASSERT_TRUE(runs.isOk()) << runs.status().toString();
  EXPECT_TRUE(runs->empty());
}

TEST(DirtyPagesTest, ReportsExactlyTheWrittenPagesOfAFileMappingAsRuns) {
  TempDir dir;
  PrivateFileMapping mapping(dir.file("layer"));
  ASSERT_NE(mapping.data(), nullptr);
  (void)sumOfAllBytes(mapping.data(), kPages * kPageBytes);  // every page present, file-backed

  mapping.data()[3 * kPageBytes + 17] = 1;
  mapping.data()[7 * kPageBytes] = 2;
  mapping.data()[8 * kPageBytes + kPageBytes - 1] = 3;
  mapping.data()[15 * kPageBytes + 5] = 0x42;  // the same value: still a private copy
  auto runs = privatelyWrittenPages(mapping.data(), kPages * kPageBytes);

  ASSERT_TRUE(runs.isOk()) << runs.status().toString();
  EXPECT_THAT(*runs, ElementsAre(PageRun{3, 1}, PageRun{7, 2}, PageRun{15, 1}));
}

TEST(DirtyPagesTest, ReportsOnlyTheAskedRange) {
  TempDir dir;
  PrivateFileMapping mapping(dir.file("layer"));
  ASSERT_NE(mapping.data(), nullptr);
  mapping.data()[2 * kPageBytes] = 1;
  mapping.data()[9 * kPageBytes] = 1;

  auto runs = privatelyWrittenPages(mapping.data() + 4 * kPageBytes, 8 * kPageBytes);

  ASSERT_TRUE(runs.isOk()) << runs.status().toString();
  EXPECT_THAT(*runs, ElementsAre(PageRun{5, 1}));  // relative to the range's start
}

TEST(DirtyPagesTest, WrittenAnonymousPagesAreReportedUntouchedOnesAreNot) {
  AnonymousMemory memory(kPages);
  ASSERT_TRUE(memory.valid());
  memory.fillPage(0, 1);
  memory.fillPage(1, 1);
  memory.fillPage(10, 1);

  auto runs = privatelyWrittenPages(memory.data(), memory.size());

  ASSERT_TRUE(runs.isOk()) << runs.status().toString();
  EXPECT_THAT(*runs, ElementsAre(PageRun{0, 2}, PageRun{10, 1}));
}

}  // namespace
}  // namespace wop::snapshot
