#include "common/timers.h"

#include <cstdio>
#include <exception>

namespace wop::common {

ThreadTimers::ThreadTimers(const Clock& clock, ErrorSink onError)
    : clock_(clock), onError_(std::move(onError)) {
  if (!onError_) {
    onError_ = [](const char* what) {
      std::fprintf(stderr, "wasm-operator: a timer callback failed: %s\n", what);
    };
  }
  thread_ = std::jthread([this](std::stop_token stop) { loop(stop); });
}

ThreadTimers::~ThreadTimers() {
  thread_.request_stop();
  wake_.notify_all();
  thread_ = {};  // joins before the members it uses go
}

void ThreadTimers::at(TimePoint when, std::function<void()> fn) {
  bool earliest;
  {
    std::lock_guard lock(mutex_);
    auto it = timers_.emplace(when, std::move(fn));
    earliest = it == timers_.begin();
  }
  if (earliest) wake_.notify_one();
}

size_t ThreadTimers::pending() const {
  std::lock_guard lock(mutex_);
  return timers_.size();
}

void ThreadTimers::loop(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    if (timers_.empty()) {
      wake_.wait(lock, stop, [this] { return !timers_.empty(); });
      continue;
    }
    const TimePoint due = timers_.begin()->first;
    if (clock_.now() < due) {
      // The clock is steady_clock (SystemClock): a wait ends at the due time, or earlier when a
      // sooner timer arrives or the service stops.
      wake_.wait_until(lock, stop, due,
                       [this, due] { return !timers_.empty() && timers_.begin()->first < due; });
      continue;
    }
    auto fn = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    lock.unlock();
    // The error boundary of this thread: a failing callback is reported, the thread goes on.
    try {
      fn();
    } catch (const std::exception& e) {
      onError_(e.what());
    } catch (...) {
      onError_("an exception that is not a std::exception");
    }
    lock.lock();
  }
}

void ManualTimers::at(TimePoint when, std::function<void()> fn) {
  std::lock_guard lock(mutex_);
  timers_.emplace(when, std::move(fn));
}

void ManualTimers::runDue() {
  while (true) {
    std::function<void()> fn;
    {
      std::lock_guard lock(mutex_);
      if (timers_.empty() || timers_.begin()->first > clock_.now()) return;
      fn = std::move(timers_.begin()->second);
      timers_.erase(timers_.begin());
    }
    fn();
  }
}

void ManualTimers::advance(Duration by) {
  const TimePoint end = clock_.now() + by;
  runDue();
  while (true) {
    auto next = nextDue();
    if (!next || *next > end) break;
    if (*next > clock_.now()) clock_.advance(*next - clock_.now());
    runDue();
  }
  if (end > clock_.now()) clock_.advance(end - clock_.now());
}

size_t ManualTimers::pending() const {
  std::lock_guard lock(mutex_);
  return timers_.size();
}

std::optional<TimePoint> ManualTimers::nextDue() const {
  std::lock_guard lock(mutex_);
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first;
}

}  // namespace wop::common
