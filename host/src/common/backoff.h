// Exponential backoff with jitter, as client-go and kube-rs compute it: base * 2^attempt,
// capped, then spread over [0.5, 1.5) of itself so that many clients retrying at once do not
// stay in step.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
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

}  // namespace wop::common
