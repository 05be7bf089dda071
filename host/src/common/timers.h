// One-shot timers on a common::Clock, so that every timer of the runtime (requeue-after,
// resync, restart backoff, idle swap-out, prefetch) runs on virtual time in tests.
//
//  - ThreadTimers: production. One thread sleeps until the earliest timer and runs it.
//  - ManualTimers: tests. Nothing runs until the test advances its FakeClock through it.
//
// Callbacks must be short and must not block (they share one thread). A callback that throws
// is caught by the timer thread's barrier and reported; it never ends the thread.
//
// Thread-safety: at() may be called from any thread, including from inside a callback.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "common/clock.h"

namespace wop::common {

class Timers {
 public:
  virtual ~Timers() = default;
  // Runs fn once, at or after `when` on clock().
  virtual void at(TimePoint when, std::function<void()> fn) = 0;
  void after(Duration delay, std::function<void()> fn) { at(clock().now() + delay, std::move(fn)); }
  virtual const Clock& clock() const = 0;
};

class ThreadTimers final : public Timers {
 public:
  // What a throwing callback reports (the default writes one line to stderr).
  using ErrorSink = std::function<void(const char* what)>;
  explicit ThreadTimers(const Clock& clock = SystemClock::instance(), ErrorSink onError = {});
  ~ThreadTimers() override;  // drops timers not yet due
  ThreadTimers(const ThreadTimers&) = delete;
  ThreadTimers& operator=(const ThreadTimers&) = delete;

  void at(TimePoint when, std::function<void()> fn) override;
  const Clock& clock() const override { return clock_; }
  size_t pending() const;

 private:
  void loop(std::stop_token stop);

  const Clock& clock_;
  ErrorSink onError_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  // Keyed by (due time, arrival order): timers due together run in the order they were set.
  std::multimap<TimePoint, std::function<void()>> timers_;
  std::jthread thread_;  // last: started once everything above exists
};

class ManualTimers final : public Timers {
 public:
  explicit ManualTimers(FakeClock& clock) : clock_(clock) {}

  void at(TimePoint when, std::function<void()> fn) override;
  const Clock& clock() const override { return clock_; }

  // Moves the clock forward by `by`, stopping at each due timer to run it (in due order), so a
  // callback sees the time it was set for and timers it sets meanwhile run if they fall in.
  void advance(Duration by);
  // Runs the timers due now (and those they set for now).
  void runDue();
  size_t pending() const;
  // When the earliest timer is due; nullopt if none.
  std::optional<TimePoint> nextDue() const;

 private:
  FakeClock& clock_;
  mutable std::mutex mutex_;
  std::multimap<TimePoint, std::function<void()>> timers_;
};

}  // namespace wop::common
