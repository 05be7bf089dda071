#include "common/timers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <vector>

namespace wop::common {
namespace {

using std::chrono::milliseconds;

TEST(ManualTimersTest, NothingRunsUntilTheClockReachesItsTime) {
  FakeClock clock;
  ManualTimers timers(clock);
  int ran = 0;
  timers.after(milliseconds(100), [&] { ++ran; });
  timers.advance(milliseconds(99));
  EXPECT_EQ(ran, 0);
  timers.advance(milliseconds(1));
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(timers.pending(), 0u);
}

TEST(ManualTimersTest, TimersRunInDueOrderAndSeeTheirOwnTime) {
  FakeClock clock;
  ManualTimers timers(clock);
  const auto start = clock.now();
  std::vector<std::pair<int, Duration>> seen;
  timers.after(milliseconds(30), [&] { seen.push_back({3, clock.now() - start}); });
  timers.after(milliseconds(10), [&] { seen.push_back({1, clock.now() - start}); });
  timers.after(milliseconds(20), [&] { seen.push_back({2, clock.now() - start}); });
  timers.advance(milliseconds(100));
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0], std::make_pair(1, Duration(milliseconds(10))));
  EXPECT_EQ(seen[1], std::make_pair(2, Duration(milliseconds(20))));
  EXPECT_EQ(seen[2], std::make_pair(3, Duration(milliseconds(30))));
  EXPECT_EQ(clock.now() - start, Duration(milliseconds(100)));
}

TEST(ManualTimersTest, ATimerSetByACallbackRunsInTheSameAdvanceWhenItFallsInside) {
  FakeClock clock;
  ManualTimers timers(clock);
  int ticks = 0;
  std::function<void()> tick = [&] {
    if (++ticks < 5) timers.after(milliseconds(10), tick);
  };
  timers.after(milliseconds(10), tick);
  timers.advance(milliseconds(35));
  EXPECT_EQ(ticks, 3);
  timers.advance(milliseconds(100));
  EXPECT_EQ(ticks, 5);
}

TEST(ThreadTimersTest, RunsATimerOnItsThreadAfterItsDelay) {
  ThreadTimers timers;
  std::promise<std::chrono::steady_clock::time_point> ran;
  const auto set = std::chrono::steady_clock::now();
  timers.after(milliseconds(20), [&] { ran.set_value(std::chrono::steady_clock::now()); });
  auto future = ran.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_GE(future.get() - set, milliseconds(20));
}

TEST(ThreadTimersTest, AnEarlierTimerSetLaterStillRunsFirst) {
  ThreadTimers timers;
  std::mutex mutex;
  std::vector<int> order;
  std::promise<void> done;
  timers.after(milliseconds(300), [&] {
    std::lock_guard lock(mutex);
    order.push_back(2);
    done.set_value();
  });
  timers.after(milliseconds(10), [&] {
    std::lock_guard lock(mutex);
    order.push_back(1);
  });
  ASSERT_EQ(done.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  std::lock_guard lock(mutex);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
}

TEST(ThreadTimersTest, AThrowingCallbackIsReportedAndTheThreadGoesOn) {
  std::atomic<int> reported{0};
  ThreadTimers timers(SystemClock::instance(), [&](const char* what) {
    EXPECT_STREQ(what, "boom");
    ++reported;
  });
  std::promise<void> after;
  timers.after(milliseconds(1), [] { throw std::runtime_error("boom"); });
  timers.after(milliseconds(5), [&] { after.set_value(); });
  ASSERT_EQ(after.get_future().wait_for(std::chrono::seconds(5)), std::future_status::ready);
  EXPECT_EQ(reported, 1);
}

TEST(ThreadTimersTest, DestroyingDropsTimersNotYetDue) {
  std::atomic<bool> ran{false};
  {
    ThreadTimers timers;
    timers.after(std::chrono::hours(1), [&] { ran = true; });
    EXPECT_EQ(timers.pending(), 1u);
  }
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace wop::common
