#include "runtime/work_queue.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace wop::runtime {
namespace {

// now + delay without overflowing: delays come from guests (requeue-after) and may be huge.
TimePoint saturatingAdd(TimePoint now, Duration delay) {
  if (delay > TimePoint::max() - now) return TimePoint::max();
  return now + delay;
}

}  // namespace

WorkQueue::WorkQueue(const common::Clock& clock, RateLimits limits)
    : clock_(clock), limits_(limits), bucket_(limits.qps, limits.burst, clock) {}

void WorkQueue::add(std::string_view key) {
  std::lock_guard lock(mutex_);
  if (shuttingDown_) return;
  promoteDueLocked();
  addLocked(std::string(key));
}

void WorkQueue::addAfter(std::string_view key, Duration delay) {
  std::lock_guard lock(mutex_);
  if (shuttingDown_) return;
  promoteDueLocked();
  std::string owned(key);
  if (delay <= Duration::zero()) {
    addLocked(owned);
    return;
  }
  addAtLocked(owned, saturatingAdd(clock_.now(), delay));
}

void WorkQueue::addRateLimited(std::string_view key) {
  std::lock_guard lock(mutex_);
  if (shuttingDown_) return;
  promoteDueLocked();
  std::string owned(key);
  // Both limiters are charged, as client-go's MaxOfRateLimiter does: the bucket's reservation
  // stands even when the per-key backoff is the longer wait.
  const Duration delay = std::max(backoffLocked(owned), bucket_.reserve());
  if (delay <= Duration::zero()) {
    addLocked(owned);
  } else {
    addAtLocked(owned, saturatingAdd(clock_.now(), delay));
  }
}

void WorkQueue::forget(std::string_view key) {
  std::lock_guard lock(mutex_);
  failures_.erase(std::string(key));
}

int WorkQueue::failures(std::string_view key) const {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(std::string(key));
  return it == failures_.end() ? 0 : it->second;
}

std::optional<std::string> WorkQueue::pop() {
  std::lock_guard lock(mutex_);
  if (shuttingDown_) return std::nullopt;
  promoteDueLocked();
  if (ready_.empty()) return std::nullopt;
  std::string key = std::move(ready_.front());
  ready_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  return key;
}

void WorkQueue::done(std::string_view key) {
  std::lock_guard lock(mutex_);
  std::string owned(key);
  if (processing_.erase(owned) == 0) return;
  if (dirty_.contains(owned)) ready_.push_back(std::move(owned));
}

std::optional<TimePoint> WorkQueue::nextDue() const {
  std::lock_guard lock(mutex_);
  if (dueOrder_.empty()) return std::nullopt;
  return std::get<0>(*dueOrder_.begin());
}

bool WorkQueue::hasReady() {
  std::lock_guard lock(mutex_);
  promoteDueLocked();
  return !ready_.empty();
}

size_t WorkQueue::readyCount() {
  std::lock_guard lock(mutex_);
  promoteDueLocked();
  return ready_.size();
}

size_t WorkQueue::delayedCount() {
  std::lock_guard lock(mutex_);
  promoteDueLocked();
  return delayed_.size();
}

size_t WorkQueue::processingCount() const {
  std::lock_guard lock(mutex_);
  return processing_.size();
}

void WorkQueue::shutDown() {
  std::lock_guard lock(mutex_);
  shuttingDown_ = true;
  ready_.clear();
  dirty_.clear();
  delayed_.clear();
  dueOrder_.clear();
}

bool WorkQueue::isShuttingDown() const {
  std::lock_guard lock(mutex_);
  return shuttingDown_;
}

void WorkQueue::addLocked(const std::string& key) {
  removeDelayedLocked(key);  // running now supersedes any later time
  if (!dirty_.insert(key).second) return;
  if (processing_.contains(key)) return;  // done() makes it ready
  ready_.push_back(key);
}

void WorkQueue::addAtLocked(const std::string& key, TimePoint at) {
  if (dirty_.contains(key)) return;  // it runs sooner than at anyway
  if (auto it = delayed_.find(key); it != delayed_.end()) {
    if (it->second.at <= at) return;  // the earlier time wins
    removeDelayedLocked(key);
  }
  const uint64_t sequence = nextSequence_++;
  delayed_.emplace(key, Delayed{at, sequence});
  dueOrder_.emplace(at, sequence, key);
}

void WorkQueue::removeDelayedLocked(const std::string& key) {
  auto it = delayed_.find(key);
  if (it == delayed_.end()) return;
  dueOrder_.erase({it->second.at, it->second.sequence, key});
  delayed_.erase(it);
}

void WorkQueue::promoteDueLocked() {
  const TimePoint now = clock_.now();
  while (!dueOrder_.empty() && std::get<0>(*dueOrder_.begin()) <= now) {
    std::string key = std::get<2>(*dueOrder_.begin());
    removeDelayedLocked(key);
    addLocked(key);
  }
}

Duration WorkQueue::backoffLocked(const std::string& key) {
  int& count = failures_[key];
  const int exponent = count;
  if (count < std::numeric_limits<int>::max()) ++count;
  // 2^exponent overflows any duration long before it matters; the cap applies anyway.
  if (exponent >= 62) return limits_.maxDelay;
  const double nanos = static_cast<double>(limits_.baseDelay.count()) * std::ldexp(1.0, exponent);
  if (nanos >= static_cast<double>(limits_.maxDelay.count())) return limits_.maxDelay;
  return Duration(static_cast<Duration::rep>(nanos));
}

}  // namespace wop::runtime
