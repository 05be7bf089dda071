#include "common/histogram.h"

#include <gtest/gtest.h>

#include <array>
#include <thread>
#include <vector>

namespace wop::common {
namespace {

constexpr std::array kBounds{0.1, 1.0, 10.0};

TEST(HistogramTest, CountsEachObservationInTheFirstBucketItFitsCumulatively) {
  Histogram histogram(kBounds);
  histogram.observe(0.05);
  histogram.observe(0.1);  // a bound is inclusive ("le")
  histogram.observe(5);
  histogram.observe(100);
  const auto snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.cumulativeCounts, (std::vector<uint64_t>{2, 2, 3}));
  EXPECT_EQ(snapshot.count, 4u) << "the +Inf bucket holds everything";
  EXPECT_DOUBLE_EQ(snapshot.sum, 105.15);
}

TEST(HistogramTest, ObservationsFromManyThreadsAreAllCounted) {
  Histogram histogram(kBounds);
  std::vector<std::jthread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) histogram.observe(0.5);
    });
  }
  threads.clear();
  const auto snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.count, 40'000u);
  EXPECT_EQ(snapshot.cumulativeCounts[1], 40'000u);
  EXPECT_DOUBLE_EQ(snapshot.sum, 20'000);
}

TEST(HistogramTest, ControllerRuntimesBucketsAreStrictlyIncreasing) {
  for (auto buckets : {reconcileTimeBuckets(), workQueueDurationBuckets(), swapDurationBuckets()}) {
    for (size_t i = 1; i < buckets.size(); ++i) EXPECT_LT(buckets[i - 1], buckets[i]);
  }
  EXPECT_EQ(reconcileTimeBuckets().front(), 0.005);
  EXPECT_EQ(reconcileTimeBuckets().back(), 60.0);
}

TEST(HistogramTest, FineLatencyBucketsAreEachFivePercentAboveTheLastFrom10usTo10s) {
  const auto buckets = fineLatencyBuckets();
  ASSERT_GT(buckets.size(), 2u);
  EXPECT_DOUBLE_EQ(buckets.front(), 1e-5);
  for (size_t i = 1; i < buckets.size(); ++i) EXPECT_NEAR(buckets[i] / buckets[i - 1], 1.05, 1e-9);
  EXPECT_LT(buckets.back(), 10.0);
  EXPECT_GE(buckets.back() * 1.05, 10.0);
}

}  // namespace
}  // namespace wop::common
