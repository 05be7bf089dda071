// A controller's work queue: keys ("ns/name") waiting to be reconciled, with the semantics of
// client-go's rate-limited delaying workqueue and kube-rs's scheduler (DESIGN.md principle 2).
//
//  - One entry per key. A key is ready (will be popped), delayed (ready at a time), or neither;
//    it may also be processing (popped, done() not yet called).
//  - A key is never handed out twice at once: adding a key that is processing marks it dirty,
//    and it becomes ready again when done() is called.
//  - The earliest request wins (kube-rs): add() makes a delayed key ready now, and a delay
//    never postpones a key that is already ready or due sooner. The reconcile that runs decides
//    afresh when to come back, so a later request it superseded would only be a wasted wake-up
//    (and for a snapshotted operator, a restore).
//
// Nothing here sleeps or owns a thread: the queue reads the injected clock, and moves delayed
// keys that are due into the ready FIFO whenever it is used. The dispatcher arms a timer for
// nextDue().
//
// Thread-safety: every method may be called concurrently (one internal mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>

#include "common/clock.h"
#include "common/token_bucket.h"
#include "runtime/operator_metrics.h"

namespace wop::runtime {

using common::Duration;
using common::TimePoint;

// client-go's DefaultControllerRateLimiter: the larger of a per-key exponential backoff and an
// overall token bucket.
struct RateLimits {
  Duration baseDelay = std::chrono::milliseconds(5);  // first retry of a key
  Duration maxDelay = std::chrono::seconds(1000);     // per-key backoff cap
  double qps = 10;                                    // overall retries per second; <= 0: off
  int burst = 100;                                    // retries allowed at once before qps applies
};

class WorkQueue {
 public:
  // The clock must outlive the queue. metrics (optional, may be shared by several queues) gets
  // client-go's workqueue figures.
  explicit WorkQueue(const common::Clock& clock, RateLimits limits = {},
                     std::shared_ptr<WorkQueueMetrics> metrics = nullptr);
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Makes key ready now (de-duplicated; deferred to done() if it is processing).
  void add(std::string_view key);
  // Makes key ready after delay (<= 0: now), unless it is ready or due sooner already.
  void addAfter(std::string_view key, Duration delay);
  // Requeues key after its backoff: baseDelay * 2^failures (capped at maxDelay), or the token
  // bucket's wait if longer; counts one more failure of key.
  void addRateLimited(std::string_view key);
  // Forgets key's failures (after a successful reconcile), so its next backoff starts over.
  void forget(std::string_view key);
  int failures(std::string_view key) const;

  // The oldest ready key, now marked processing; nullopt if none is ready now.
  std::optional<std::string> pop();
  // Ends processing of key; if it was added meanwhile, it is ready again.
  void done(std::string_view key);

  // When the earliest delayed key becomes ready (possibly already past: due keys move to the
  // ready FIFO on the next call of any method below or above); nullopt if none is delayed.
  std::optional<TimePoint> nextDue() const;

  // The observers below first move due keys to the ready FIFO, hence not const.
  bool hasReady();                 // pop() would return a key now
  size_t readyCount();             // keys pop() can return now (client-go's Len())
  size_t delayedCount();           // keys waiting for their time
  size_t processingCount() const;  // keys popped and not done

  // Drops ready and delayed keys and ignores later adds; pop() returns nullopt from now on.
  // done() still works, so reconciles in flight end normally. For removing an operator.
  void shutDown();
  bool isShuttingDown() const;

 private:
  struct Delayed {
    TimePoint at;
    uint64_t sequence;  // orders keys due at the same time by when they were scheduled
  };

  void addLocked(const std::string& key, TimePoint now);
  void pushReadyLocked(std::string key);
  void addAtLocked(const std::string& key, TimePoint at);
  void removeDelayedLocked(const std::string& key);
  // Moves keys whose time has come into the ready FIFO, in order of their due time; returns
  // the clock's now.
  TimePoint promoteDueLocked();
  Duration backoffLocked(const std::string& key);

  const common::Clock& clock_;
  const RateLimits limits_;
  common::TokenBucket bucket_;

  mutable std::mutex mutex_;
  std::deque<std::string> ready_;  // FIFO; never holds a processing key
  // Ready, or to be ready when done(); since when (for the queue-duration metric).
  std::unordered_map<std::string, TimePoint> dirty_;
  std::unordered_map<std::string, TimePoint> processing_;  // since when
  std::unordered_map<std::string, Delayed> delayed_;
  std::set<std::tuple<TimePoint, uint64_t, std::string>> dueOrder_;  // mirrors delayed_
  std::unordered_map<std::string, int> failures_;
  uint64_t nextSequence_ = 0;
  bool shuttingDown_ = false;
  const std::shared_ptr<WorkQueueMetrics> metrics_;
};

}  // namespace wop::runtime
