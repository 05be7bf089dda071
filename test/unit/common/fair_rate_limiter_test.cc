#include "common/fair_rate_limiter.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace wop::common {
namespace {

using std::chrono::milliseconds;

// Timers on virtual time: run() advances the clock to each due timer in turn.
class FakeScheduler {
 public:
  explicit FakeScheduler(FakeClock& clock) : clock_(clock) {}
  FairRateLimiter::Scheduler scheduler() {
    return [this](milliseconds delay, std::function<void()> fn) {
      timers_.emplace(clock_.now() + delay, std::move(fn));
    };
  }
  void runUntil(TimePoint end) {
    while (!timers_.empty() && timers_.begin()->first <= end) {
      auto node = timers_.extract(timers_.begin());
      if (node.key() > clock_.now()) clock_.advance(node.key() - clock_.now());
      node.mapped()();
    }
    if (end > clock_.now()) clock_.advance(end - clock_.now());
  }
  size_t pending() const { return timers_.size(); }

 private:
  FakeClock& clock_;
  std::multimap<TimePoint, std::function<void()>> timers_;
};

class FairRateLimiterTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  FakeScheduler timers_{clock_};
};

TEST_F(FairRateLimiterTest, TheBurstGoesAtOnceThenOneRequestPerToken) {
  FairRateLimiter limiter(10, 2, clock_, timers_.scheduler());
  std::vector<TimePoint> sent;
  for (int i = 0; i < 4; ++i) limiter.acquire("a", [&] { sent.push_back(clock_.now()); });
  ASSERT_EQ(sent.size(), 2u);
  timers_.runUntil(clock_.now() + std::chrono::seconds(1));
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[2] - sent[0], milliseconds(100));
  EXPECT_EQ(sent[3] - sent[0], milliseconds(200));
}

TEST_F(FairRateLimiterTest, AFlowWithManyWaitingCallsDoesNotDelayAnotherFlowsOne) {
  FairRateLimiter limiter(50, 1, clock_, timers_.scheduler());
  const TimePoint start = clock_.now();
  int noisySent = 0;
  for (int i = 0; i < 64; ++i) limiter.acquire("noisy", [&] { noisySent++; });
  std::optional<TimePoint> quietSent;
  timers_.runUntil(start + milliseconds(100));
  limiter.acquire("quiet", [&] { quietSent = clock_.now(); });
  timers_.runUntil(start + std::chrono::seconds(5));
  ASSERT_TRUE(quietSent);
  // One token every 20 ms; the quiet flow's call waits for one turn of each waiting flow (the
  // noisy one's, then its own), not for the noisy flow's 58 calls still waiting.
  EXPECT_LE(*quietSent - (start + milliseconds(100)), milliseconds(40));
  EXPECT_EQ(noisySent, 64);
  EXPECT_EQ(limiter.waiting(), 0u);
}

TEST_F(FairRateLimiterTest, WaitingFlowsShareTheRateByTurns) {
  FairRateLimiter limiter(100, 1, clock_, timers_.scheduler());
  std::string order;
  for (int i = 0; i < 4; ++i) limiter.acquire("a", [&] { order += 'a'; });
  for (int i = 0; i < 2; ++i) limiter.acquire("b", [&] { order += 'b'; });
  for (int i = 0; i < 2; ++i) limiter.acquire("c", [&] { order += 'c'; });
  timers_.runUntil(clock_.now() + std::chrono::seconds(1));
  EXPECT_EQ(order, "aabcabca");
}

TEST_F(FairRateLimiterTest, ZeroQpsDisablesLimiting) {
  FairRateLimiter limiter(0, 1, clock_, timers_.scheduler());
  int sent = 0;
  for (int i = 0; i < 1000; ++i) limiter.acquire("a", [&] { sent++; });
  EXPECT_EQ(sent, 1000);
  EXPECT_EQ(timers_.pending(), 0u);
}

TEST_F(FairRateLimiterTest, AWatchTakesATokenWithoutWaiting) {
  FairRateLimiter limiter(10, 1, clock_, timers_.scheduler());
  limiter.take();
  std::optional<TimePoint> sent;
  const TimePoint start = clock_.now();
  limiter.acquire("a", [&] { sent = clock_.now(); });
  EXPECT_FALSE(sent);
  timers_.runUntil(start + std::chrono::seconds(1));
  ASSERT_TRUE(sent);
  EXPECT_EQ(*sent - start, milliseconds(100));
}

}  // namespace
}  // namespace wop::common
