#include "runtime/fair_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace wop::runtime {
namespace {

using namespace std::chrono_literals;

class FairSchedulerTest : public ::testing::Test {
 protected:
  common::FakeClock clock_;
  FairScheduler scheduler_;
};

TEST_F(FairSchedulerTest, HasNothingToDoWithoutReadyKeys) {
  WorkQueue queue(clock_);
  ASSERT_TRUE(scheduler_.registerQueue("op-a", queue).isOk());
  EXPECT_EQ(scheduler_.next(), std::nullopt);
}

TEST_F(FairSchedulerTest, ABusyQueueCannotStarveAQuietOne) {
  WorkQueue busy(clock_);
  WorkQueue quiet(clock_);
  ASSERT_TRUE(scheduler_.registerQueue("busy", busy, 1000).isOk());
  ASSERT_TRUE(scheduler_.registerQueue("quiet", quiet).isOk());
  for (int i = 0; i < 1000; ++i) busy.add("ns/item-" + std::to_string(i));
  quiet.add("ns/only");

  auto first = scheduler_.next();
  auto second = scheduler_.next();
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->queueId == "quiet" || second->queueId == "quiet")
      << "the quiet queue waited behind " << first->queueId << " and " << second->queueId;
}

TEST_F(FairSchedulerTest, TakesTurnsRoundRobin) {
  WorkQueue a(clock_), b(clock_), c(clock_);
  ASSERT_TRUE(scheduler_.registerQueue("a", a, 10).isOk());
  ASSERT_TRUE(scheduler_.registerQueue("b", b, 10).isOk());
  ASSERT_TRUE(scheduler_.registerQueue("c", c, 10).isOk());
  for (auto* queue : {&a, &b, &c}) {
    queue->add("1");
    queue->add("2");
  }
  std::string order;
  while (auto work = scheduler_.next()) order += work->queueId;
  EXPECT_EQ(order, "abcabc");
}

TEST_F(FairSchedulerTest, AQueueRunsAtMostMaxConcurrentKeysAtOnce) {
  WorkQueue queue(clock_);
  ASSERT_TRUE(scheduler_.registerQueue("op", queue, 2).isOk());
  queue.add("x");
  queue.add("y");
  queue.add("z");
  auto first = scheduler_.next();
  auto second = scheduler_.next();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(scheduler_.inFlight("op"), 2);
  EXPECT_EQ(scheduler_.next(), std::nullopt) << "both slots are taken";
  scheduler_.finished("op", first->key);
  EXPECT_EQ(scheduler_.inFlight("op"), 1);
  auto third = scheduler_.next();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->key, "z");
}

TEST_F(FairSchedulerTest, AFullQueueLetsTheOthersRun) {
  WorkQueue full(clock_), other(clock_);
  ASSERT_TRUE(scheduler_.registerQueue("full", full).isOk());
  ASSERT_TRUE(scheduler_.registerQueue("other", other).isOk());
  full.add("1");
  full.add("2");
  other.add("1");
  other.add("2");
  ASSERT_EQ(scheduler_.next()->queueId, "full");
  ASSERT_EQ(scheduler_.next()->queueId, "other");
  EXPECT_EQ(scheduler_.next(), std::nullopt) << "each has its one slot in use";
  scheduler_.finished("other", "1");
  EXPECT_EQ(scheduler_.next()->queueId, "other");
}

TEST_F(FairSchedulerTest, FinishedEndsProcessingSoARequeuedKeyRunsAgain) {
  WorkQueue queue(clock_);
  ASSERT_TRUE(scheduler_.registerQueue("op", queue).isOk());
  queue.add("ns/a");
  auto work = scheduler_.next();
  ASSERT_TRUE(work);
  queue.add("ns/a");  // an event arrived while it ran
  EXPECT_EQ(scheduler_.next(), std::nullopt);
  scheduler_.finished("op", "ns/a");
  auto again = scheduler_.next();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->key, "ns/a");
}

TEST_F(FairSchedulerTest, FinishingAKeyNeverHandedOutFreesNoSlot) {
  WorkQueue queue(clock_);
  ASSERT_TRUE(scheduler_.registerQueue("op", queue).isOk());
  queue.add("a");
  queue.add("b");
  ASSERT_TRUE(scheduler_.next());
  scheduler_.finished("op", "b");
  scheduler_.finished("elsewhere", "a");
  EXPECT_EQ(scheduler_.inFlight("op"), 1);
  EXPECT_EQ(scheduler_.next(), std::nullopt);
}

TEST_F(FairSchedulerTest, RefusesADuplicateIdAndAZeroSlotQueue) {
  WorkQueue queue(clock_);
  ASSERT_TRUE(scheduler_.registerQueue("op", queue).isOk());
  EXPECT_EQ(scheduler_.registerQueue("op", queue).code(), common::StatusCode::kFailedPrecondition);
  EXPECT_EQ(scheduler_.registerQueue("other", queue, 0).code(),
            common::StatusCode::kInvalidArgument);
}

TEST_F(FairSchedulerTest, AnUnregisteredQueueIsNoLongerServed) {
  WorkQueue a(clock_), b(clock_), c(clock_);
  ASSERT_TRUE(scheduler_.registerQueue("a", a, 10).isOk());
  ASSERT_TRUE(scheduler_.registerQueue("b", b, 10).isOk());
  ASSERT_TRUE(scheduler_.registerQueue("c", c, 10).isOk());
  for (auto* queue : {&a, &b, &c}) queue->add("1");
  ASSERT_EQ(scheduler_.next()->queueId, "a");
  scheduler_.unregisterQueue("a");
  scheduler_.unregisterQueue("missing");
  EXPECT_EQ(scheduler_.inFlight("a"), 0);
  EXPECT_EQ(scheduler_.next()->queueId, "b") << "removing a skipped no one's turn";
  EXPECT_EQ(scheduler_.next()->queueId, "c");
  scheduler_.finished("a", "1");  // the reconcile of a removed queue ends: ignored
  EXPECT_EQ(a.processingCount(), 1u);
}

TEST_F(FairSchedulerTest, NextDueIsTheEarliestOverAllQueues) {
  WorkQueue a(clock_), b(clock_);
  ASSERT_TRUE(scheduler_.registerQueue("a", a).isOk());
  ASSERT_TRUE(scheduler_.registerQueue("b", b).isOk());
  EXPECT_EQ(scheduler_.nextDue(), std::nullopt);
  const auto start = clock_.now();
  a.addAfter("x", 30s);
  b.addAfter("y", 4s);
  EXPECT_EQ(scheduler_.nextDue(), start + 4s);
  clock_.advance(4s);
  auto work = scheduler_.next();
  ASSERT_TRUE(work);
  EXPECT_EQ(work->queueId, "b");
}

TEST_F(FairSchedulerTest, WorkersOnManyThreadsNeverRunOneKeyTwiceAtOnce) {
  WorkQueue a(clock_), b(clock_);
  ASSERT_TRUE(scheduler_.registerQueue("a", a, 4).isOk());
  ASSERT_TRUE(scheduler_.registerQueue("b", b, 4).isOk());
  std::mutex mutex;
  std::set<std::string> running;
  std::atomic<bool> twice{false};
  std::atomic<int> reconciles{0};
  auto worker = [&](int seed) {
    for (int i = 0; i < 2000; ++i) {
      WorkQueue& queue = (i + seed) % 2 ? a : b;
      queue.add("k" + std::to_string((i * 7 + seed) % 5));
      auto work = scheduler_.next();
      if (!work) continue;
      const std::string id = work->queueId + "/" + work->key;
      {
        std::lock_guard lock(mutex);
        if (!running.insert(id).second) twice = true;
      }
      ++reconciles;
      {
        std::lock_guard lock(mutex);
        running.erase(id);
      }
      scheduler_.finished(work->queueId, work->key);
    }
  };
  std::vector<std::thread> threads;
  for (int seed = 0; seed < 4; ++seed) threads.emplace_back(worker, seed);
  for (auto& thread : threads) thread.join();
  EXPECT_FALSE(twice);
  EXPECT_GT(reconciles.load(), 0);
  EXPECT_EQ(scheduler_.inFlight("a") + scheduler_.inFlight("b"), 0);
}

}  // namespace
}  // namespace wop::runtime
