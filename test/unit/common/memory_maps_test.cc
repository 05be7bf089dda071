#include "common/memory_maps.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mman.h>

namespace wop::common {
namespace {

using ::testing::HasSubstr;

TEST(MemoryMaps, CountsThisProcesssMapsAndReadsTheLimit) {
  auto before = memoryMaps();
  ASSERT_TRUE(before);
  EXPECT_GT(before->maps, 0u);
  EXPECT_GT(before->limit, before->maps);
  // Two mappings with a hole between them: at least one more line (an end may merge with a
  // neighbouring mapping of the same kind).
  const size_t page = 4096;
  void* area = ::mmap(nullptr, 3 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(area, MAP_FAILED);
  ASSERT_EQ(::munmap(static_cast<char*>(area) + page, page), 0);
  auto after = memoryMaps();
  ASSERT_TRUE(after);
  EXPECT_GE(after->maps, before->maps + 1);
  ::munmap(area, page);
  ::munmap(static_cast<char*>(area) + 2 * page, page);
}

TEST(MemoryMaps, WarnsFromEightyPercentOfTheLimit) {
  EXPECT_EQ(memoryMapsWarning({.maps = 52423, .limit = 65530}), "");
  const std::string warning = memoryMapsWarning({.maps = 52424, .limit = 65530});
  EXPECT_THAT(warning, HasSubstr("52424 memory maps of the limit of 65530 (vm.max_map_count)"));
  EXPECT_THAT(warning, HasSubstr("raise vm.max_map_count"));
  EXPECT_EQ(memoryMapsWarning({.maps = 10, .limit = 0}), "");  // no limit read
}

}  // namespace
}  // namespace wop::common
