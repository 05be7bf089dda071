#include "common/fair_rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace wop::common {

FairRateLimiter::FairRateLimiter(double qps, int burst, const Clock& clock, Scheduler scheduler)
    : qps_(qps),
      burst_(std::max(burst, 1)),
      clock_(clock),
      scheduler_(std::move(scheduler)),
      tokens_(burst_),
      last_(clock.now()) {}

void FairRateLimiter::refill() {
  const auto now = clock_.now();
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
}

// Under the lock: the delay of the one timer that releases waiters, if none is armed yet.
std::optional<std::chrono::milliseconds> FairRateLimiter::armTimer() {
  if (timerArmed_ || waiting_ == 0) return std::nullopt;
  timerArmed_ = true;
  const double seconds = std::max(0.0, (1 - tokens_) / qps_);
  return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(seconds * 1000)));
}

void FairRateLimiter::acquire(const std::string& flow, std::function<void()> go) {
  if (qps_ <= 0) {
    go();
    return;
  }
  std::optional<std::chrono::milliseconds> timer;
  bool now = false;
  {
    std::lock_guard lock(mutex_);
    refill();
    if (waiting_ == 0 && tokens_ >= 1) {
      tokens_ -= 1;
      now = true;
    } else {
      auto& queue = queues_[flow];
      if (queue.empty()) turn_.push_back(flow);
      queue.push_back(std::move(go));
      waiting_++;
      timer = armTimer();
    }
  }
  if (now) go();
  if (timer) scheduler_(*timer, [this] { dispatch(); });
}

void FairRateLimiter::take() {
  if (qps_ <= 0) return;
  std::lock_guard lock(mutex_);
  refill();
  tokens_ -= 1;
}

size_t FairRateLimiter::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_;
}

void FairRateLimiter::dispatch() {
  std::vector<std::function<void()>> ready;
  std::optional<std::chrono::milliseconds> timer;
  {
    std::lock_guard lock(mutex_);
    timerArmed_ = false;
    refill();
    while (tokens_ >= 1 && waiting_ > 0) {
      const std::string flow = std::move(turn_.front());
      turn_.pop_front();
      auto it = queues_.find(flow);
      ready.push_back(std::move(it->second.front()));
      it->second.pop_front();
      waiting_--;
      tokens_ -= 1;
      if (it->second.empty()) {
        queues_.erase(it);
      } else {
        turn_.push_back(flow);  // to the back: every other waiting flow goes first
      }
    }
    timer = armTimer();
  }
  for (auto& go : ready) go();
  if (timer) scheduler_(*timer, [this] { dispatch(); });
}

}  // namespace wop::common
