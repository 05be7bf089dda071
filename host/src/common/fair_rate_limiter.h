// The host's QPS/burst budget for the API server, handed out fairly among flows (one flow per
// operator, DESIGN.md principle 9), like the API server's priority and fairness: a request
// goes at once while tokens are left and nobody waits; otherwise it waits in its flow's queue,
// and each token that becomes free goes to the next flow with a waiting request, round robin.
// So an operator that keeps 64 calls in flight waits behind its own calls, and another
// operator's one call waits for at most one token per busy flow.
//
// Never blocks: a request that must wait is released from a timer of the caller's scheduler
// (the HTTP transport's event loop).
//
// Thread-safety: all methods may be called concurrently; `go` callbacks and the scheduler are
// called without the limiter's lock held.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"

namespace wop::common {

class FairRateLimiter {
 public:
  // Runs fn after delay (on an event loop); the limiter must outlive what it scheduled.
  using Scheduler = std::function<void(std::chrono::milliseconds delay, std::function<void()> fn)>;

  // qps <= 0 disables limiting.
  FairRateLimiter(double qps, int burst, const Clock& clock, Scheduler scheduler);

  // Runs go once flow may send (now, on this thread, if a token is free and nobody waits).
  void acquire(const std::string& flow, std::function<void()> go);
  // Takes a token without waiting (a watch counts against the budget, but is not delayed by it);
  // may leave a debt that later requests wait for.
  void take();

  size_t waiting() const;

 private:
  void refill();
  std::optional<std::chrono::milliseconds> armTimer();
  void dispatch();

  const double qps_;
  const double burst_;
  const Clock& clock_;
  const Scheduler scheduler_;
  mutable std::mutex mutex_;
  double tokens_;
  TimePoint last_;
  std::map<std::string, std::deque<std::function<void()>>> queues_;  // flows with waiters
  std::deque<std::string> turn_;  // those flows, in the order their turn comes
  size_t waiting_ = 0;
  bool timerArmed_ = false;
};

}  // namespace wop::common
