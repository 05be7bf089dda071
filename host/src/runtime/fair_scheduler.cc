#include "runtime/fair_scheduler.h"

#include <algorithm>

namespace wop::runtime {

using common::Status;
using common::StatusCode;

Status FairScheduler::registerQueue(std::string id, WorkQueue& queue, int maxConcurrent) {
  if (maxConcurrent < 1) {
    return Status(
        StatusCode::kInvalidArgument,
        "queue " + id + ": maxConcurrent must be at least 1, got " + std::to_string(maxConcurrent));
  }
  std::lock_guard lock(mutex_);
  if (findLocked(id) != entries_.end()) {
    return Status(StatusCode::kFailedPrecondition, "queue " + id + " is already registered");
  }
  entries_.push_back(Entry{std::move(id), &queue, maxConcurrent, {}});
  return Status::ok();
}

void FairScheduler::unregisterQueue(std::string_view id) {
  std::lock_guard lock(mutex_);
  auto it = findLocked(id);
  if (it == entries_.end()) return;
  const auto index = static_cast<size_t>(it - entries_.begin());
  entries_.erase(it);
  // Keep the cursor on the queue it pointed at, so removing one queue skips no one's turn.
  if (index < cursor_) --cursor_;
  if (cursor_ >= entries_.size()) cursor_ = 0;
}

std::optional<Work> FairScheduler::next() {
  std::lock_guard lock(mutex_);
  const size_t count = entries_.size();
  for (size_t step = 0; step < count; ++step) {
    const size_t index = (cursor_ + step) % count;
    Entry& entry = entries_[index];
    if (entry.running.size() >= static_cast<size_t>(entry.maxConcurrent)) continue;
    std::optional<std::string> key = entry.queue->pop();
    if (!key) continue;
    entry.running.insert(*key);
    cursor_ = (index + 1) % count;
    return Work{entry.id, std::move(*key)};
  }
  return std::nullopt;
}

void FairScheduler::finished(std::string_view queueId, std::string_view key) {
  std::lock_guard lock(mutex_);
  auto entry = findLocked(queueId);
  if (entry == entries_.end()) return;
  auto running = entry->running.find(std::string(key));
  if (running == entry->running.end()) return;
  entry->running.erase(running);
  entry->queue->done(key);
}

std::optional<TimePoint> FairScheduler::nextDue() const {
  std::lock_guard lock(mutex_);
  std::optional<TimePoint> earliest;
  for (const Entry& entry : entries_) {
    auto due = entry.queue->nextDue();
    if (due && (!earliest || *due < *earliest)) earliest = due;
  }
  return earliest;
}

int FairScheduler::inFlight(std::string_view id) const {
  std::lock_guard lock(mutex_);
  for (const Entry& entry : entries_) {
    if (entry.id == id) return static_cast<int>(entry.running.size());
  }
  return 0;
}

std::vector<FairScheduler::Entry>::iterator FairScheduler::findLocked(std::string_view id) {
  return std::find_if(entries_.begin(), entries_.end(),
                      [&](const Entry& entry) { return entry.id == id; });
}

}  // namespace wop::runtime
