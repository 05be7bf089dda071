// A token bucket (client-go's QPS/burst limiter): `qps` tokens per second, at most `burst`
// saved up. reserve() never blocks: it takes a token and says how long to wait before using
// it, so callers on an event loop can schedule instead of sleeping.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <algorithm>
#include <chrono>
#include <mutex>

#include "common/clock.h"

namespace wop::common {

class TokenBucket {
 public:
  TokenBucket(double qps, int burst, const Clock& clock)
      : qps_(qps), burst_(std::max(burst, 1)), clock_(clock), tokens_(burst_), last_(clock.now()) {}

  // Takes one token; returns how long the caller must wait before acting (zero if a token was
  // there). qps <= 0 disables limiting.
  Duration reserve() {
    if (qps_ <= 0) return Duration::zero();
    std::lock_guard lock(mutex_);
    const auto now = clock_.now();
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min<double>(burst_, tokens_ + elapsed * qps_);
    tokens_ -= 1;  // may go negative: a debt paid back by waiting
    if (tokens_ >= 0) return Duration::zero();
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(-tokens_ / qps_));
  }

 private:
  const double qps_;
  const int burst_;
  const Clock& clock_;
  std::mutex mutex_;
  double tokens_;
  TimePoint last_;
};

}  // namespace wop::common
