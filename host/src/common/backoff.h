// Exponential backoff with jitter, as client-go and kube-rs compute it: base * 2^attempt,
// capped, then spread over [0.5, 1.5) of itself so that many clients retrying at once do not
// stay in step.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <random>

namespace wop::common {

// attempt counts from 0. random01 is a uniform number in [0, 1) (injectable for tests).
inline std::chrono::milliseconds jitteredBackoff(int attempt, std::chrono::milliseconds base,
                                                 std::chrono::milliseconds max, double random01) {
  const double exponential =
      static_cast<double>(base.count()) * std::pow(2.0, std::min(attempt, 30));
  const double capped = std::min(exponential, static_cast<double>(max.count()));
  return std::chrono::milliseconds(static_cast<int64_t>(capped * (0.5 + random01)));
}

// A uniform number in [0, 1) from a per-thread generator (no shared state to lock).
inline double randomUnit() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

// The delay before restarting something that failed (an operator's instance): it doubles with
// each consecutive failure up to max, and starts over once the thing has run for healthyAfter
// after a start that succeeded. A failed start is a failure like any other: it never counts as
// a healthy run. The jitter keeps the sequence growing until the cap (each delay is drawn from
// [0.75, 1] of base * 2^n, so the next one, at least 1.5 times the same base, is longer) and
// never exceeds the cap, while operators that fail together still spread their restarts.
//
// Thread-safety: none; one owner.
class RestartBackoff {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  RestartBackoff(std::chrono::milliseconds base, std::chrono::milliseconds max,
                 std::chrono::steady_clock::duration healthyAfter)
      : base_(base), max_(max), healthyAfter_(healthyAfter) {}

  // A start succeeded at now.
  void started(TimePoint now) { healthySince_ = now; }

  // A failure at now (of a running instance or of a start): the delay before the next start.
  // random01 is a uniform number in [0, 1).
  std::chrono::milliseconds failed(TimePoint now, double random01) {
    if (healthySince_ && now - *healthySince_ >= healthyAfter_) failures_ = 0;
    healthySince_.reset();
    const int attempt = std::min(failures_, 30);
    if (failures_ < 30) ++failures_;
    const double exponential = static_cast<double>(base_.count()) * std::ldexp(1.0, attempt);
    const double capped = std::min(exponential, static_cast<double>(max_.count()));
    return std::chrono::milliseconds(static_cast<int64_t>(capped * (1.0 - 0.25 * random01)));
  }

  // Failures since the last healthy run.
  int consecutiveFailures() const { return failures_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  std::chrono::steady_clock::duration healthyAfter_;
  std::optional<TimePoint> healthySince_;
  int failures_ = 0;
};

}  // namespace wop::common
