#include "server/event_spam_filter.h"

#include <gtest/gtest.h>

namespace wop::server {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr common::TimePoint kStart{seconds(1000)};

TEST(EventSpamFilterTest, ABurstThenOneTokenPerRefillPeriod) {
  EventSpamFilter filter(25, minutes(5), 100);
  for (int i = 0; i < 25; ++i) EXPECT_TRUE(filter.allow("a", kStart)) << i;
  EXPECT_FALSE(filter.allow("a", kStart));
  EXPECT_FALSE(filter.allow("a", kStart + minutes(4)));
  EXPECT_TRUE(filter.allow("a", kStart + minutes(5)));
  EXPECT_FALSE(filter.allow("a", kStart + minutes(6)));
  EXPECT_TRUE(filter.allow("b", kStart)) << "each key has its own bucket";
}

TEST(EventSpamFilterTest, ABucketNeverHoldsMoreThanItsBurst) {
  EventSpamFilter filter(2, minutes(5), 100);
  EXPECT_TRUE(filter.allow("a", kStart));
  const auto later = kStart + std::chrono::hours(24);
  EXPECT_TRUE(filter.allow("a", later));
  EXPECT_TRUE(filter.allow("a", later));
  EXPECT_FALSE(filter.allow("a", later));
}

TEST(EventSpamFilterTest, KeysAreBoundedForgettingRefilledBucketsThenTheLeastRecentlyUsed) {
  EventSpamFilter filter(2, minutes(5), 2);
  EXPECT_TRUE(filter.allow("a", kStart));
  EXPECT_TRUE(filter.allow("a", kStart));
  EXPECT_TRUE(filter.allow("b", kStart + seconds(1)));
  EXPECT_TRUE(filter.allow("c", kStart + seconds(2)));  // room made: "a" used longest ago
  EXPECT_EQ(filter.keys(), 2u);
  EXPECT_TRUE(filter.allow("a", kStart + seconds(3))) << "forgotten: a fresh bucket";
  EXPECT_EQ(filter.keys(), 2u);
}

}  // namespace
}  // namespace wop::server
