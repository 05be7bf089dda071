// Injectable time: production code takes a Clock&, tests pass a FakeClock and advance it.
//
// Thread-safety: SystemClock is stateless; FakeClock is safe for concurrent now()/advance().
#pragma once

#include <atomic>
#include <chrono>

namespace wop::common {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;     // monotonic: for timeouts, backoff, rate limits
  virtual WallTime wallNow() const = 0;  // calendar time: for credential expiry
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

class FakeClock final : public Clock {
 public:
  TimePoint now() const override { return TimePoint(Duration(nanos_.load())); }
  WallTime wallNow() const override {
    return WallTime(std::chrono::duration_cast<WallTime::duration>(Duration(wallNanos_.load())));
  }
  void advance(Duration by) {
    nanos_ += by.count();
    wallNanos_ += by.count();
  }
  void setWall(WallTime wall) {
    wallNanos_ = std::chrono::duration_cast<Duration>(wall.time_since_epoch()).count();
  }

 private:
  std::atomic<int64_t> nanos_{1'000'000'000};
  std::atomic<int64_t> wallNanos_{1'700'000'000'000'000'000};
};

}  // namespace wop::common
