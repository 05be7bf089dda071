// Picks which work queue (one per operator controller) runs next, so that one busy operator
// cannot starve the others: round robin over the registered queues that have a ready key and
// a free concurrency slot. A queue with 1000 ready keys and a queue with one both get a turn
// in every round.
//
// Ownership: the scheduler borrows each WorkQueue from registerQueue() until unregisterQueue()
// returns; the caller keeps it alive in between.
// Thread-safety: every method may be called concurrently. Lock order is scheduler, then queue;
// a queue never calls back into the scheduler.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "runtime/work_queue.h"

namespace wop::runtime {

struct Work {
  std::string queueId;
  std::string key;
  bool operator==(const Work&) const = default;
};

class FairScheduler {
 public:
  // maxConcurrent: reconciles of this queue allowed in flight at once (distinct keys: the queue
  // never hands out one key twice). Fails if id is taken or maxConcurrent < 1.
  common::Status registerQueue(std::string id, WorkQueue& queue, int maxConcurrent = 1);
  // Forgets the queue. Reconciles in flight are the caller's: finished() ignores them, and the
  // caller calls queue.done() itself if the queue lives on.
  void unregisterQueue(std::string_view id);

  // The next key to reconcile, taken from the queue after the one that ran last (round robin);
  // nullopt if no queue has a ready key and a free slot. The key is processing in its queue
  // until finished().
  std::optional<Work> next();
  // Frees the slot and ends processing of key in its queue (requeue it before or after: both
  // work). A no-op for a queue no longer registered or a key next() did not hand out.
  void finished(std::string_view queueId, std::string_view key);

  // The earliest time a delayed key of any queue becomes ready, for the dispatcher's timer.
  std::optional<TimePoint> nextDue() const;
  // Reconciles of queue id in flight (0 for an unknown id).
  int inFlight(std::string_view id) const;

 private:
  struct Entry {
    std::string id;
    WorkQueue* queue;
    int maxConcurrent;
    // Keys handed out and not finished: finished() of a key never handed out frees no slot.
    std::unordered_set<std::string> running;
  };

  std::vector<Entry>::iterator findLocked(std::string_view id);

  mutable std::mutex mutex_;
  std::vector<Entry> entries_;  // registration order; few enough that a scan is cheapest
  size_t cursor_ = 0;           // index of the queue that gets the first look next time
};

}  // namespace wop::runtime
