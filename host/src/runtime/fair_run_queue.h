// Which operator a free worker runs next (DESIGN.md principle 9: worker time is shared per
// operator). Like Linux's CFS run queue: each operator accumulates the worker time its slices
// used (its virtual runtime), and the runnable operator with the least goes next, so a quick
// operator's sub-millisecond reconciles always sort before an operator that burns a second per
// entry. An operator that becomes runnable starts at max(its vruntime, min vruntime - a small
// credit): a sleeper neither keeps an unbounded credit nor pays for the time it slept.
//
// One entry cannot be preempted (only interrupted at the entry limit), so with few workers
// two operators with long entries could hold every worker for up to a second at a time. An
// operator whose recent slices were long may therefore take a worker only while fewer than
// maxLongRunning such operators run: with two workers, one is always free for the others.
// "Recent" is a moving average of its slice times (weight 1/8), not the last slice alone: a
// hog's short slices between its long entries (a timer that found nothing due yet, a
// completion delivered) must not let two hogs start long entries together, and one long
// slice of a quick operator (a restore, a cold cache) does not mark it.
//
// Pure bookkeeping, no threads or clocks: the caller measures slices and locks.
// Thread-safety: none (the host calls it under its own mutex).
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <tuple>

namespace wop::runtime {

struct FairRunQueueOptions {
  // How far below the least vruntime a newly runnable operator may start.
  std::chrono::nanoseconds sleeperCredit = std::chrono::milliseconds(5);
  // An operator whose average slice (weight 1/8 per slice) is longer than this is long-running.
  std::chrono::nanoseconds longSlice = std::chrono::milliseconds(50);
  // How many long-running operators may run at once (at least 1).
  int maxLongRunning = 1;
};

template <typename Id>
class FairRunQueue {
 public:
  using Duration = std::chrono::nanoseconds;

  explicit FairRunQueue(FairRunQueueOptions options = {}) : options_(options) {
    options_.maxLongRunning = std::max(1, options_.maxLongRunning);
  }

  // id has work. Returns true if it joined the queue; false if it was queued already, or is
  // running (it runs again after this slice).
  bool wake(const Id& id) {
    auto [it, fresh] = entities_.try_emplace(id);
    Entity& e = it->second;
    if (e.running) {
      e.again = true;
      return false;
    }
    if (e.queued) return false;
    const Duration floor = minVruntime_ - options_.sleeperCredit;
    e.vruntime = fresh ? floor : std::max(e.vruntime, floor);
    enqueue(id, e);
    return true;
  }

  // Takes the next operator to run (it is running until finish()), or nothing if no queued
  // operator may run now.
  std::optional<Id> next() {
    auto it = firstEligible();
    if (it == queue_.end()) return std::nullopt;
    const Id id = std::get<2>(*it);
    queue_.erase(it);
    Entity& e = entities_.at(id);
    e.queued = false;
    e.running = true;
    if (e.longRunning) longRunning_++;
    running_.insert(e.vruntime);
    updateMin();
    return id;
  }

  bool hasEligible() const { return firstEligible() != queue_.end(); }
  bool empty() const { return queue_.empty(); }

  // id's slice ended after `used`; more: it has more work now. Returns true if it was queued
  // again (more, or woken while it ran).
  bool finish(const Id& id, Duration used, bool more) {
    auto it = entities_.find(id);
    if (it == entities_.end()) return false;
    Entity& e = it->second;
    running_.erase(running_.find(e.vruntime));
    if (e.longRunning) longRunning_--;
    e.running = false;
    e.vruntime += used;
    e.averageSlice += (used - e.averageSlice) / 8;
    e.longRunning = e.averageSlice > options_.longSlice;
    if (e.forgotten) {
      entities_.erase(it);
      updateMin();
      return false;
    }
    if (more || e.again) {
      e.again = false;
      enqueue(id, e);
      return true;
    }
    updateMin();
    // Idle with no debt beyond what wake() would give it anyway: nothing to remember.
    if (e.vruntime <= minVruntime_ - options_.sleeperCredit && !e.longRunning) entities_.erase(it);
    return false;
  }

  // The operator is gone: drop it (at the end of its slice if it is running).
  void forget(const Id& id) {
    auto it = entities_.find(id);
    if (it == entities_.end()) return;
    if (it->second.running) {
      it->second.forgotten = true;
      return;
    }
    if (it->second.queued) queue_.erase({it->second.vruntime, it->second.seq, id});
    entities_.erase(it);
    updateMin();
  }

  void clear() {
    queue_.clear();
    entities_.clear();
    running_.clear();
    longRunning_ = 0;
  }

  // For tests and stats.
  std::optional<Duration> vruntime(const Id& id) const {
    auto it = entities_.find(id);
    if (it == entities_.end()) return std::nullopt;
    return it->second.vruntime;
  }
  Duration minVruntime() const { return minVruntime_; }

 private:
  struct Entity {
    Duration vruntime{0};
    uint64_t seq = 0;
    bool queued = false;
    bool running = false;
    bool again = false;        // woken while running
    Duration averageSlice{0};  // moving average of its slice times, weight 1/8
    bool longRunning = false;  // averageSlice > options_.longSlice
    bool forgotten = false;
  };
  using Queue = std::set<std::tuple<Duration, uint64_t, Id>>;

  void enqueue(const Id& id, Entity& e) {
    e.queued = true;
    e.seq = nextSeq_++;
    queue_.insert({e.vruntime, e.seq, id});
    updateMin();
  }

  typename Queue::const_iterator firstEligible() const {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      const bool longRunning = entities_.at(std::get<2>(*it)).longRunning;
      if (!longRunning || longRunning_ < options_.maxLongRunning) return it;
    }
    return queue_.end();
  }

  // CFS's min_vruntime: the least vruntime of the queued and running, never decreasing.
  void updateMin() {
    std::optional<Duration> least;
    if (!queue_.empty()) least = std::get<0>(*queue_.begin());
    if (!running_.empty() && (!least || *running_.begin() < *least)) least = *running_.begin();
    if (least) minVruntime_ = std::max(minVruntime_, *least);
  }

  FairRunQueueOptions options_;
  std::map<Id, Entity> entities_;
  Queue queue_;
  std::multiset<Duration> running_;  // vruntimes of the running, at their start
  Duration minVruntime_{0};
  int longRunning_ = 0;
  uint64_t nextSeq_ = 0;
};

}  // namespace wop::runtime
