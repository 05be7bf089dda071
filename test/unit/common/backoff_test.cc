#include "common/backoff.h"

#include <gtest/gtest.h>

#include <vector>

namespace wop::common {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using TimePoint = RestartBackoff::TimePoint;

constexpr TimePoint kStart{seconds(1000)};

// Delays of `count` consecutive failures one second apart, with the given jitter draws.
std::vector<int64_t> failures(RestartBackoff& backoff, TimePoint from, int count,
                              std::vector<double> draws = {0.0}) {
  std::vector<int64_t> delays;
  for (int i = 0; i < count; ++i) {
    const double draw = draws[static_cast<size_t>(i) % draws.size()];
    delays.push_back(backoff.failed(from + seconds(i), draw).count());
  }
  return delays;
}

TEST(RestartBackoff, FailedStartsDoubleTheDelayUpToTheCap) {
  RestartBackoff backoff(milliseconds(500), seconds(10), seconds(60));
  EXPECT_EQ(failures(backoff, kStart, 7),
            (std::vector<int64_t>{500, 1000, 2000, 4000, 8000, 10000, 10000}));
}

TEST(RestartBackoff, JitterNeverMakesADelayShorterThanTheOneBeforeOrLongerThanTheCap) {
  RestartBackoff backoff(milliseconds(500), seconds(10), seconds(60));
  // The worst draws for growth: the longest delay (draw 0), then the shortest (draw ~1).
  const auto delays = failures(backoff, kStart, 12, {0.0, 0.999});
  EXPECT_GE(delays.back(), 7500);
  for (size_t i = 1; i < delays.size(); ++i) {
    // Below the cap each delay is longer than the one before; at the cap, within [0.75, 1] of it.
    if (delays[i - 1] < 7500) EXPECT_GT(delays[i], delays[i - 1]) << "failure " << i;
    EXPECT_LE(delays[i], 10000) << "failure " << i;
  }
}

// The bug this guards against: a failed start left the time of the last good start in place,
// so every later failure looked like the end of a long healthy run and started over at 1x.
TEST(RestartBackoff, FailedStartsLongAfterTheLastGoodStartKeepGrowing) {
  RestartBackoff backoff(milliseconds(500), seconds(10), seconds(60));
  backoff.started(kStart);
  // It ran for two minutes, then failed: a healthy run, so the backoff starts over...
  EXPECT_EQ(backoff.failed(kStart + seconds(120), 0.0), milliseconds(500));
  // ...and the restarts that fail at once grow from there, however old the last good start.
  EXPECT_EQ(failures(backoff, kStart + seconds(121), 4),
            (std::vector<int64_t>{1000, 2000, 4000, 8000}));
  EXPECT_EQ(backoff.consecutiveFailures(), 5);
}

TEST(RestartBackoff, ARunShorterThanHealthyAfterKeepsGrowing) {
  RestartBackoff backoff(milliseconds(500), seconds(10), seconds(60));
  EXPECT_EQ(backoff.failed(kStart, 0.0), milliseconds(500));
  backoff.started(kStart + seconds(1));
  EXPECT_EQ(backoff.failed(kStart + seconds(30), 0.0), milliseconds(1000));
  backoff.started(kStart + seconds(31));
  EXPECT_EQ(backoff.failed(kStart + seconds(91), 0.0), milliseconds(500)) << "60 s is healthy";
}

TEST(JitteredBackoff, SpreadsOverHalfToOneAndAHalfOfTheCappedDelay) {
  EXPECT_EQ(jitteredBackoff(0, milliseconds(100), seconds(1), 0.0), milliseconds(50));
  EXPECT_EQ(jitteredBackoff(2, milliseconds(100), seconds(1), 0.5), milliseconds(400));
  EXPECT_EQ(jitteredBackoff(9, milliseconds(100), seconds(1), 0.5), milliseconds(1000));
}

}  // namespace
}  // namespace wop::common
