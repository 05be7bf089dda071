#include "runtime/fair_run_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wop::runtime {
namespace {

using std::chrono::milliseconds;
using Queue = FairRunQueue<std::string>;

TEST(FairRunQueueTest, TheOperatorThatUsedLeastTimeGoesFirst) {
  Queue queue;
  queue.wake("hog");
  queue.wake("quick");
  ASSERT_EQ(queue.next(), "hog");
  ASSERT_EQ(queue.next(), "quick");
  EXPECT_TRUE(queue.finish("hog", milliseconds(900), /*more=*/true));
  EXPECT_TRUE(queue.finish("quick", milliseconds(1), /*more=*/true));
  EXPECT_EQ(queue.next(), "quick");  // it was queued after the hog, but used less
}

TEST(FairRunQueueTest, ASleeperStartsNearTheLeastVruntimeNotWithAnUnboundedCredit) {
  Queue queue;
  queue.wake("sleeper");
  ASSERT_EQ(queue.next(), "sleeper");
  EXPECT_FALSE(queue.finish("sleeper", milliseconds(1), /*more=*/false));
  queue.wake("busy");
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(queue.next(), "busy");
    queue.finish("busy", milliseconds(100), /*more=*/true);
  }
  // 10 s of "busy" later the sleeper wakes: it goes first, but only by the sleeper credit, so
  // it cannot now hold the worker for 10 s of its own.
  queue.wake("sleeper");
  EXPECT_EQ(*queue.vruntime("sleeper"), queue.minVruntime() - milliseconds(5));
  ASSERT_EQ(queue.next(), "sleeper");
  queue.finish("sleeper", milliseconds(20), /*more=*/true);
  EXPECT_EQ(queue.next(), "busy");
}

TEST(FairRunQueueTest, WokenWhileRunningItRunsAgainAfterItsSlice) {
  Queue queue;
  queue.wake("a");
  ASSERT_EQ(queue.next(), "a");
  EXPECT_FALSE(queue.wake("a"));
  EXPECT_FALSE(queue.next());
  EXPECT_TRUE(queue.finish("a", milliseconds(1), /*more=*/false));
  EXPECT_EQ(queue.next(), "a");
  EXPECT_FALSE(queue.finish("a", milliseconds(1), /*more=*/false));
  EXPECT_TRUE(queue.empty());
}

TEST(FairRunQueueTest, AQueuedOperatorIsQueuedOnce) {
  Queue queue;
  EXPECT_TRUE(queue.wake("a"));
  EXPECT_FALSE(queue.wake("a"));
  EXPECT_EQ(queue.next(), "a");
  EXPECT_FALSE(queue.next());
}

TEST(FairRunQueueTest, AForgottenOperatorIsDroppedEvenWhileRunning) {
  Queue queue;
  queue.wake("queued");
  queue.wake("running");
  ASSERT_EQ(queue.next(), "queued");
  queue.finish("queued", milliseconds(10), /*more=*/true);
  ASSERT_EQ(queue.next(), "running");
  queue.forget("queued");
  queue.forget("running");
  EXPECT_FALSE(queue.finish("running", milliseconds(1), /*more=*/true));
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.vruntime("running"));
}

TEST(FairRunQueueTest, LongRunningOperatorsLeaveAWorkerForTheOthers) {
  Queue queue({.maxLongRunning = 1});
  queue.wake("hog-1");
  queue.wake("hog-2");
  ASSERT_EQ(queue.next(), "hog-1");
  ASSERT_EQ(queue.next(), "hog-2");
  queue.finish("hog-1", milliseconds(900), /*more=*/true);
  queue.finish("hog-2", milliseconds(900), /*more=*/true);
  ASSERT_EQ(queue.next(), "hog-1");
  EXPECT_FALSE(queue.hasEligible());  // hog-2 must wait: only one long-running at a time
  EXPECT_FALSE(queue.next());
  queue.wake("quick");
  EXPECT_EQ(queue.next(), "quick");
  queue.finish("quick", milliseconds(1), /*more=*/false);
  queue.finish("hog-1", milliseconds(900), /*more=*/true);
  EXPECT_EQ(queue.next(), "hog-2");
}

// The two hogs of the test above, each with a short slice between its long ones (a wake-up
// that found its requeued key not yet due): neither becomes quick, so they still run one at a
// time. A quick operator with one long slice (a restore) is not made long-running by it.
TEST(FairRunQueueTest, LongRunningIsAnAverageNotTheLastSlice) {
  Queue queue({.maxLongRunning = 1});
  queue.wake("hog-1");
  queue.wake("hog-2");
  ASSERT_EQ(queue.next(), "hog-1");
  ASSERT_EQ(queue.next(), "hog-2");
  queue.finish("hog-1", milliseconds(900), /*more=*/true);
  queue.finish("hog-2", milliseconds(900), /*more=*/true);
  for (int round = 0; round < 2; ++round) {  // each gets its short slice in between
    auto hog = queue.next();
    ASSERT_TRUE(hog);
    EXPECT_FALSE(queue.hasEligible());
    queue.finish(*hog, milliseconds(0), /*more=*/true);
  }
  ASSERT_TRUE(queue.next());
  EXPECT_FALSE(queue.hasEligible()) << "a short slice made a hog quick: both workers are taken";

  queue.wake("quick");
  ASSERT_EQ(queue.next(), "quick");
  queue.finish("quick", milliseconds(60), /*more=*/true);
  EXPECT_EQ(queue.next(), "quick") << "one 60 ms slice made a quick operator long-running";
}

// Two workers on virtual time (1 ms steps): two operators that burn 0.9 s per slice and always
// have more, and a quick one woken every 100 ms for a 1 ms slice. Returns the quick one's
// longest wait for a worker after the first second.
milliseconds longestQuickWait(FairRunQueueOptions options) {
  Queue queue(options);
  struct Worker {
    std::optional<std::string> running;
    int64_t startedAt = 0;
    int64_t until = 0;
  };
  std::vector<Worker> workers(2);
  queue.wake("hog-1");
  queue.wake("hog-2");
  int64_t wokenAt = -1;
  int64_t longest = 0;
  for (int64_t t = 0; t < 10'000; ++t) {
    if (t >= 1000 && t % 100 == 0 && queue.wake("quick")) wokenAt = t;
    for (auto& worker : workers) {
      if (worker.running && worker.until <= t) {
        const bool hog = *worker.running != "quick";
        queue.finish(*worker.running, milliseconds(t - worker.startedAt), /*more=*/hog);
        worker.running.reset();
      }
    }
    for (auto& worker : workers) {
      if (worker.running) continue;
      auto id = queue.next();
      if (!id) break;
      worker.running = id;
      worker.startedAt = t;
      worker.until = t + (*id == "quick" ? 1 : 900);
      if (*id == "quick") longest = std::max(longest, t - wokenAt);
    }
  }
  return milliseconds(longest);
}

TEST(FairRunQueueTest, TwoHogsOnTwoWorkersDoNotDelayAQuickOperator) {
  EXPECT_LE(longestQuickWait({.maxLongRunning = 1}), milliseconds(1));
  // Without the reserve, both workers sit in 0.9 s entries and the quick one waits for one.
  EXPECT_GE(longestQuickWait({.maxLongRunning = 2}), milliseconds(500));
}

}  // namespace
}  // namespace wop::runtime
