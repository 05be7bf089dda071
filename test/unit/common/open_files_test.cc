#include "common/open_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

namespace wop::common {
namespace {

using ::testing::HasSubstr;

TEST(OpenFiles, TheSoftLimitIsRaisedToTheHardOne) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit lowered{std::min<rlim_t>(saved.rlim_max, 256), saved.rlim_max};
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &lowered), 0);
  auto raised = raiseOpenFileLimit();
  ASSERT_TRUE(raised);
  EXPECT_EQ(raised->softBefore, lowered.rlim_cur);
  EXPECT_EQ(raised->soft, saved.rlim_max);
  EXPECT_EQ(raised->hard, saved.rlim_max);
  rlimit now{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, saved.rlim_max);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
}

TEST(OpenFiles, CountsThisProcesssFiles) {
  auto files = openFiles();
  ASSERT_TRUE(files);
  EXPECT_GE(files->open, 3u);  // stdin, stdout, stderr at least
  EXPECT_GT(files->limit, 0u);
}

TEST(OpenFiles, WarnsFromEightyPercentOfTheLimit) {
  EXPECT_EQ(openFilesWarning({.open = 818, .limit = 1024}), "");
  const std::string warning = openFilesWarning({.open = 820, .limit = 1024});
  EXPECT_THAT(warning, HasSubstr("820 files open of the limit of 1024 (RLIMIT_NOFILE)"));
  EXPECT_THAT(warning, HasSubstr("about 204 more can be loaded"));
  EXPECT_THAT(openFilesWarning({.open = 2000, .limit = 1024}), HasSubstr("about 0 more"));
}

}  // namespace
}  // namespace wop::common
