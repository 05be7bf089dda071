// ManualClock: a wop::sdk::Clock the test sets and advances.
#pragma once

#include <chrono>
#include <cstdint>

#include "wop/clock.h"

namespace wop::sdk::testing {

class ManualClock final : public Clock {
 public:
  // 2026-01-02T03:04:05Z
  explicit ManualClock(int64_t unixNanos = 1'767'323'045'000'000'000) : now_(unixNanos) {}
  int64_t nowUnixNanos() const override { return now_; }
  void advance(std::chrono::nanoseconds by) { now_ += by.count(); }

 private:
  int64_t now_;
};

}  // namespace wop::sdk::testing
