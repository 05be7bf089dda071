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

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

WorkQueue::WorkQueue(const common::Clock& clock, RateLimits limits,
                     std::shared_ptr<WorkQueueMetrics> metrics)
    : clock_(clock),
      limits_(limits),
      bucket_(limits.qps, limits.burst, clock),
      metrics_(std::move(metrics)) {}

void WorkQueue::add(std::string_view key) {
  std::lock_guard lock(mutex_);
  if (shuttingDown_) return;
  const TimePoint now = promoteDueLocked();
  addLocked(std::string(key), now);
}

void WorkQueue::addAfter(std::string_view key, Duration delay) {
  std::lock_guard lock(mutex_);
  if (shuttingDown_) return;
  const TimePoint now = promoteDueLocked();
  std::string owned(key);
  if (delay <= Duration::zero()) {
    addLocked(owned, now);
    return;
  }
  addAtLocked(owned, saturatingAdd(now, delay));
}

void WorkQueue::addRateLimited(std::string_view key) {
  std::lock_guard lock(mutex_);
  if (shuttingDown_) return;
  const TimePoint now = promoteDueLocked();
  if (metrics_) metrics_->retries.fetch_add(1, std::memory_order_relaxed);
  std::string owned(key);
  // Both limiters are charged, as client-go's MaxOfRateLimiter does: the bucket's reservation
  // stands even when the per-key backoff is the longer wait.
  const Duration delay = std::max(backoffLocked(owned), bucket_.reserve());
  if (delay <= Duration::zero()) {
    addLocked(owned, now);
  } else {
    addAtLocked(owned, saturatingAdd(now, delay));
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
  const TimePoint now = promoteDueLocked();
  if (ready_.empty()) return std::nullopt;
  std::string key = std::move(ready_.front());
  ready_.pop_front();
  auto dirty = dirty_.find(key);
  if (metrics_) {
    metrics_->depth.fetch_sub(1, std::memory_order_relaxed);
    metrics_->queueSeconds.observe(seconds(now - dirty->second));
  }
  dirty_.erase(dirty);
  processing_.emplace(key, now);
  return key;
}

void WorkQueue::done(std::string_view key) {
  std::lock_guard lock(mutex_);
  std::string owned(key);
  auto processing = processing_.find(owned);
  if (processing == processing_.end()) return;
  if (metrics_) metrics_->workSeconds.observe(seconds(clock_.now() - processing->second));
  processing_.erase(processing);
  if (dirty_.contains(owned)) pushReadyLocked(std::move(owned));
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
  if (metrics_) {
    metrics_->depth.fetch_sub(static_cast<int64_t>(ready_.size()), std::memory_order_relaxed);
  }
  ready_.clear();
  dirty_.clear();
  delayed_.clear();
  dueOrder_.clear();
}

bool WorkQueue::isShuttingDown() const {
  std::lock_guard lock(mutex_);
  return shuttingDown_;
}

void WorkQueue::addLocked(const std::string& key, TimePoint now) {
  removeDelayedLocked(key);  // running now supersedes any later time
  if (!dirty_.emplace(key, now).second) return;
  if (metrics_) metrics_->adds.fetch_add(1, std::memory_order_relaxed);
  if (processing_.contains(key)) return;  // done() makes it ready
  pushReadyLocked(key);
}

void WorkQueue::pushReadyLocked(std::string key) {
  ready_.push_back(std::move(key));
  if (metrics_) metrics_->depth.fetch_add(1, std::memory_order_relaxed);
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

TimePoint WorkQueue::promoteDueLocked() {
  const TimePoint now = clock_.now();
  while (!dueOrder_.empty() && std::get<0>(*dueOrder_.begin()) <= now) {
    // A delayed key waits in the queue from its due time, as client-go's delaying queue adds it
    // then.
    const TimePoint due = std::get<0>(*dueOrder_.begin());
    std::string key = std::get<2>(*dueOrder_.begin());
    removeDelayedLocked(key);
    addLocked(key, due);
  }
  return now;
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
