#include "runtime/work_queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

namespace wop::runtime {
namespace {

using namespace std::chrono_literals;

// Rate limits with the bucket out of the way, so per-key backoff is what a test sees.
constexpr RateLimits kNoBucket{.qps = 0};

class WorkQueueTest : public ::testing::Test {
 protected:
  common::FakeClock clock_;
};

TEST_F(WorkQueueTest, AddingAKeyTwiceQueuesItOnce) {
  WorkQueue queue(clock_);
  queue.add("ns/a");
  queue.add("ns/a");
  EXPECT_EQ(queue.readyCount(), 1u);
  EXPECT_EQ(queue.pop(), "ns/a");
  EXPECT_EQ(queue.pop(), std::nullopt);
}

TEST_F(WorkQueueTest, ReadyKeysComeOutInTheOrderTheyWereAdded) {
  WorkQueue queue(clock_);
  queue.add("c");
  queue.add("a");
  queue.add("b");
  queue.add("a");
  EXPECT_EQ(queue.pop(), "c");
  EXPECT_EQ(queue.pop(), "a");
  EXPECT_EQ(queue.pop(), "b");
}

TEST_F(WorkQueueTest, AKeyAddedWhileProcessingRunsAgainOnlyAfterDone) {
  WorkQueue queue(clock_);
  queue.add("ns/a");
  ASSERT_EQ(queue.pop(), "ns/a");
  queue.add("ns/a");
  queue.add("ns/a");
  EXPECT_FALSE(queue.hasReady()) << "a key being processed must not be handed out again";
  EXPECT_EQ(queue.pop(), std::nullopt);
  queue.done("ns/a");
  EXPECT_EQ(queue.pop(), "ns/a");
  queue.done("ns/a");
  EXPECT_EQ(queue.pop(), std::nullopt) << "the two adds while processing were one";
}

TEST_F(WorkQueueTest, DoneWithoutAnAddLeavesTheKeyIdle) {
  WorkQueue queue(clock_);
  queue.add("a");
  ASSERT_EQ(queue.pop(), "a");
  EXPECT_EQ(queue.processingCount(), 1u);
  queue.done("a");
  EXPECT_EQ(queue.processingCount(), 0u);
  EXPECT_EQ(queue.pop(), std::nullopt);
}

TEST_F(WorkQueueTest, NeverHandsOutTheSameKeyTwiceInFlight) {
  WorkQueue queue(clock_);
  std::set<std::string> inFlight;
  for (int round = 0; round < 50; ++round) {
    queue.add("k" + std::to_string(round % 3));
    queue.addAfter("k" + std::to_string(round % 4), 1ms);
    clock_.advance(1ms);
    while (auto key = queue.pop()) {
      EXPECT_TRUE(inFlight.insert(*key).second) << *key << " handed out twice";
    }
    if (round % 2 == 0 && !inFlight.empty()) {
      queue.done(*inFlight.begin());
      inFlight.erase(inFlight.begin());
    }
  }
}

TEST_F(WorkQueueTest, AddAfterMakesTheKeyReadyWhenItsTimeComes) {
  WorkQueue queue(clock_);
  queue.addAfter("a", 10s);
  EXPECT_EQ(queue.pop(), std::nullopt);
  EXPECT_EQ(queue.delayedCount(), 1u);
  clock_.advance(9s);
  EXPECT_EQ(queue.pop(), std::nullopt);
  clock_.advance(1s);
  EXPECT_EQ(queue.pop(), "a");
  EXPECT_EQ(queue.delayedCount(), 0u);
}

TEST_F(WorkQueueTest, AddAfterKeepsTheEarlierTime) {
  WorkQueue queue(clock_);
  const auto start = clock_.now();
  queue.addAfter("a", 5s);
  queue.addAfter("a", 60s);
  EXPECT_EQ(queue.nextDue(), start + 5s);
  queue.addAfter("a", 2s);
  EXPECT_EQ(queue.nextDue(), start + 2s);
  EXPECT_EQ(queue.delayedCount(), 1u);
  clock_.advance(2s);
  EXPECT_EQ(queue.pop(), "a");
  queue.done("a");
  clock_.advance(10min);
  EXPECT_EQ(queue.pop(), std::nullopt) << "the later times were superseded";
}

TEST_F(WorkQueueTest, AddAfterOfAReadyKeyDoesNothing) {
  WorkQueue queue(clock_);
  queue.add("a");
  queue.addAfter("a", 5s);
  EXPECT_EQ(queue.nextDue(), std::nullopt);
  EXPECT_EQ(queue.pop(), "a");
  queue.done("a");
  clock_.advance(5s);
  EXPECT_EQ(queue.pop(), std::nullopt);
}

TEST_F(WorkQueueTest, AddMakesADelayedKeyReadyNow) {
  WorkQueue queue(clock_);
  queue.addAfter("a", 5s);
  queue.add("a");
  EXPECT_EQ(queue.nextDue(), std::nullopt);
  EXPECT_EQ(queue.pop(), "a");
}

TEST_F(WorkQueueTest, AZeroOrNegativeDelayIsAnAdd) {
  WorkQueue queue(clock_);
  queue.addAfter("a", 0s);
  queue.addAfter("b", -3s);
  EXPECT_EQ(queue.pop(), "a");
  EXPECT_EQ(queue.pop(), "b");
}

TEST_F(WorkQueueTest, AHugeDelaySaturatesInsteadOfOverflowing) {
  WorkQueue queue(clock_);
  queue.addAfter("a", Duration::max());
  EXPECT_EQ(queue.nextDue(), TimePoint::max());
  clock_.advance(24h * 365);
  EXPECT_EQ(queue.pop(), std::nullopt);
}

TEST_F(WorkQueueTest, NextDueIsTheEarliestDelayedKey) {
  WorkQueue queue(clock_);
  const auto start = clock_.now();
  EXPECT_EQ(queue.nextDue(), std::nullopt);
  queue.addAfter("late", 30s);
  queue.addAfter("soon", 3s);
  queue.addAfter("middle", 10s);
  EXPECT_EQ(queue.nextDue(), start + 3s);
  clock_.advance(3s);
  EXPECT_EQ(queue.pop(), "soon");
  EXPECT_EQ(queue.nextDue(), start + 10s);
}

TEST_F(WorkQueueTest, DueKeysJoinTheReadyFifoInTheOrderOfTheirTimes) {
  WorkQueue queue(clock_);
  queue.addAfter("second", 2s);
  queue.addAfter("first", 1s);
  clock_.advance(5s);
  queue.add("third");
  EXPECT_EQ(queue.pop(), "first");
  EXPECT_EQ(queue.pop(), "second");
  EXPECT_EQ(queue.pop(), "third");
}

TEST_F(WorkQueueTest, ADelayedKeyThatFallsDueWhileProcessingRunsAfterDone) {
  WorkQueue queue(clock_);
  queue.add("a");
  ASSERT_EQ(queue.pop(), "a");
  queue.addAfter("a", 1s);  // the reconcile asked to come back in a second
  clock_.advance(2s);
  EXPECT_EQ(queue.pop(), std::nullopt);
  queue.done("a");
  EXPECT_EQ(queue.pop(), "a");
}

TEST_F(WorkQueueTest, BackoffDoublesPerFailureFromFiveMilliseconds) {
  WorkQueue queue(clock_, kNoBucket);
  const auto start = clock_.now();
  queue.addRateLimited("a");
  EXPECT_EQ(queue.nextDue(), start + 5ms);
  EXPECT_EQ(queue.failures("a"), 1);
  for (Duration expected : {10ms, 20ms, 40ms, 80ms}) {
    clock_.advance(*queue.nextDue() - clock_.now());
    ASSERT_EQ(queue.pop(), "a");
    queue.addRateLimited("a");
    queue.done("a");
    EXPECT_EQ(*queue.nextDue() - clock_.now(), expected);
  }
  EXPECT_EQ(queue.failures("a"), 5);
}

TEST_F(WorkQueueTest, BackoffIsCappedAtAThousandSeconds) {
  WorkQueue queue(clock_, kNoBucket);
  for (int failure = 0; failure < 100; ++failure) {
    queue.addRateLimited("a");
    clock_.advance(2000s);
    ASSERT_EQ(queue.pop(), "a");
    queue.done("a");
  }
  queue.addRateLimited("a");
  EXPECT_EQ(*queue.nextDue() - clock_.now(), 1000s);
}

TEST_F(WorkQueueTest, ForgetStartsTheBackoffOver) {
  WorkQueue queue(clock_, kNoBucket);
  for (int failure = 0; failure < 4; ++failure) queue.addRateLimited("a");
  EXPECT_EQ(queue.failures("a"), 4);
  queue.forget("a");
  EXPECT_EQ(queue.failures("a"), 0);
  clock_.advance(1s);
  ASSERT_EQ(queue.pop(), "a");
  queue.done("a");
  queue.addRateLimited("a");
  EXPECT_EQ(*queue.nextDue() - clock_.now(), 5ms);
}

TEST_F(WorkQueueTest, KeysBackOffIndependently) {
  WorkQueue queue(clock_, kNoBucket);
  queue.addRateLimited("a");
  queue.addRateLimited("a");
  queue.addRateLimited("b");
  EXPECT_EQ(queue.failures("a"), 2);
  EXPECT_EQ(queue.failures("b"), 1);
  EXPECT_EQ(queue.failures("c"), 0);
}

TEST_F(WorkQueueTest, TheBucketLimitsRetriesBeyondTheBurst) {
  WorkQueue queue(clock_, {.qps = 10, .burst = 100});
  for (int i = 0; i < 100; ++i) queue.addRateLimited("key-" + std::to_string(i));
  queue.addRateLimited("one-too-many");  // waits 1/qps, longer than its 5 ms backoff
  queue.addRateLimited("two-too-many");  // and 2/qps
  clock_.advance(5ms);
  EXPECT_EQ(queue.readyCount(), 100u) << "the burst only waits for each key's backoff";
  EXPECT_EQ(queue.delayedCount(), 2u);
  clock_.advance(94ms);
  EXPECT_EQ(queue.readyCount(), 100u);
  clock_.advance(1ms);
  EXPECT_EQ(queue.readyCount(), 101u);
  clock_.advance(100ms);
  EXPECT_EQ(queue.readyCount(), 102u);
}

TEST_F(WorkQueueTest, ShutDownDropsPendingKeysAndIgnoresNewOnes) {
  WorkQueue queue(clock_);
  queue.add("a");
  queue.add("b");
  queue.addAfter("c", 1s);
  ASSERT_EQ(queue.pop(), "a");
  queue.shutDown();
  EXPECT_TRUE(queue.isShuttingDown());
  queue.add("d");
  queue.addRateLimited("e");
  EXPECT_EQ(queue.pop(), std::nullopt);
  EXPECT_EQ(queue.nextDue(), std::nullopt);
  EXPECT_EQ(queue.processingCount(), 1u);
  queue.done("a");
  EXPECT_EQ(queue.processingCount(), 0u);
}

// client-go's workqueue metrics, as controller-runtime exports them.
class WorkQueueMetricsTest : public WorkQueueTest {
 protected:
  std::shared_ptr<WorkQueueMetrics> metrics_ = std::make_shared<WorkQueueMetrics>();
};

TEST_F(WorkQueueMetricsTest, AddsCountKeysThatBecameReadyNotDuplicates) {
  WorkQueue queue(clock_, kNoBucket, metrics_);
  queue.add("a");
  queue.add("a");
  queue.add("b");
  EXPECT_EQ(metrics_->adds.load(), 2u);
  EXPECT_EQ(metrics_->depth.load(), 2);
}

TEST_F(WorkQueueMetricsTest, DepthFollowsPopsDoneAndShutDown) {
  WorkQueue queue(clock_, kNoBucket, metrics_);
  queue.add("a");
  queue.add("b");
  ASSERT_EQ(queue.pop(), "a");
  EXPECT_EQ(metrics_->depth.load(), 1);
  queue.add("a");  // while processing: ready again only when done
  EXPECT_EQ(metrics_->depth.load(), 1);
  queue.done("a");
  EXPECT_EQ(metrics_->depth.load(), 2);
  queue.shutDown();
  EXPECT_EQ(metrics_->depth.load(), 0);
}

TEST_F(WorkQueueMetricsTest, QueueAndWorkDurationsAreMeasuredOnTheClock) {
  WorkQueue queue(clock_, kNoBucket, metrics_);
  queue.add("a");
  clock_.advance(30ms);
  ASSERT_EQ(queue.pop(), "a");
  clock_.advance(2s);
  queue.done("a");
  const auto waited = metrics_->queueSeconds.snapshot();
  EXPECT_EQ(waited.count, 1u);
  EXPECT_DOUBLE_EQ(waited.sum, 0.03);
  const auto worked = metrics_->workSeconds.snapshot();
  EXPECT_EQ(worked.count, 1u);
  EXPECT_DOUBLE_EQ(worked.sum, 2.0);
}

TEST_F(WorkQueueMetricsTest, ADelayedKeyWaitsFromItsDueTimeNotFromWhenItWasScheduled) {
  WorkQueue queue(clock_, kNoBucket, metrics_);
  queue.addAfter("a", 10s);
  clock_.advance(10s + 5ms);
  ASSERT_EQ(queue.pop(), "a");
  EXPECT_DOUBLE_EQ(metrics_->queueSeconds.snapshot().sum, 0.005);
}

TEST_F(WorkQueueMetricsTest, RetriesCountRateLimitedRequeues) {
  WorkQueue queue(clock_, kNoBucket, metrics_);
  queue.addRateLimited("a");
  queue.addRateLimited("a");
  queue.add("b");
  EXPECT_EQ(metrics_->retries.load(), 2u);
}

}  // namespace
}  // namespace wop::runtime
