#include "wop/clock.h"

#include <gtest/gtest.h>

namespace wop::sdk {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

TEST(SdkClock, FormatsUtcAsMetav1TimeAndMicroTime) {
  EXPECT_EQ(formatRfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(formatMicroTime(0), "1970-01-01T00:00:00.000000Z");
  const int64_t t = 1'700'000'000 * kSecond + 123'456'789;
  EXPECT_EQ(formatRfc3339(t), "2023-11-14T22:13:20Z");
  EXPECT_EQ(formatMicroTime(t), "2023-11-14T22:13:20.123456Z") << "microseconds, truncated";
}

TEST(SdkClock, KnowsLeapDaysAndCenturies) {
  EXPECT_EQ(formatRfc3339(951'782'400 * kSecond), "2000-02-29T00:00:00Z");
  EXPECT_EQ(formatRfc3339(1'709'164'799 * kSecond), "2024-02-28T23:59:59Z");
  EXPECT_EQ(formatRfc3339(1'709'164'800 * kSecond), "2024-02-29T00:00:00Z");
  EXPECT_EQ(formatRfc3339(4'107'542'400 * kSecond), "2100-03-01T00:00:00Z") << "2100 is no leap";
  EXPECT_EQ(formatMicroTime(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(SdkClock, TheSystemClockIsTheWallClock) {
  const int64_t now = systemClock().nowUnixNanos();
  EXPECT_GT(now, 1'700'000'000 * kSecond);
  EXPECT_EQ(formatRfc3339(now).size(), 20u);
}

}  // namespace
}  // namespace wop::sdk
