#include "server/event_recorder.h"

#include <unistd.h>

#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "server/event_spam_filter.h"

namespace wop::server {

namespace {

void stderrLog(std::string_view message) {
  std::fprintf(stderr, "wasm-operator: events: %.*s\n", static_cast<int>(message.size()),
               message.data());
}

std::string hostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return "";
  return host;
}

// What makes two occurrences the same Event (the reporter is the recorder's, so it is left out).
struct Key {
  ObjectReference regarding;
  EventType type;
  std::string reason;
  std::string action;
  std::string note;

  auto operator<=>(const Key&) const = default;
};

std::string budgetOf(const EventOccurrence& occurrence) {
  if (!occurrence.budget.empty()) return "budget\n" + occurrence.budget;
  const ObjectReference& r = occurrence.fields.regarding;
  return "object\n" + r.kind + "\n" + r.apiVersion + "\n" + r.ns + "\n" + r.name + "\n" + r.uid;
}

}  // namespace

class EventRecorder::Core : public std::enable_shared_from_this<Core> {
 public:
  Core(kube::Client& client, common::Timers& timers, EventRecorderConfig config, EventLog log)
      : client_(client),
        timers_(timers),
        clock_(timers.clock()),
        config_(withInstance(std::move(config))),
        log_(log ? std::move(log) : EventLog(stderrLog)),
        spam_(config_.spamBurst, config_.spamRefillEvery, config_.maxSpamKeys) {}

  void record(const EventOccurrence& occurrence);
  // The recorder is gone: nothing is scheduled or sent any more (an answer arriving now may
  // still be counted).
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    queue_.clear();
  }
  const EventCounters& counters() const { return counters_; }
  size_t tracked() const {
    std::lock_guard lock(mutex_);
    return tracked_.size();
  }

 private:
  // One Event object, from its first occurrence until its series window is over.
  struct Tracked {
    EventFields fields;  // the note bounded
    std::string name;
    common::WallTime eventTime{};
    common::TimePoint lastObserved{};
    common::WallTime lastObservedWall{};
    int64_t count = 1;
    int64_t written = 0;  // the count the server has; 0: not created (yet, or again)
    bool queued = false;
    bool sending = false;
    bool failed = false;  // the server refused it: no more writes
    bool busy() const { return queued || sending; }
    bool dirty() const { return !failed && count > written; }
  };
  using TrackedPtr = std::shared_ptr<Tracked>;
  using Answer = kube::ApiResult<kube::HttpResponse>;
  enum class Write { kCreate, kPatch };
  struct Send {
    TrackedPtr event;
    Write write;
    int64_t count;
    kube::HttpRequest request;
  };

  static EventRecorderConfig withInstance(EventRecorderConfig config) {
    config.reporter.instance = reportingInstanceFrom(
        config.reporter.instance.empty() ? hostName() : config.reporter.instance);
    return config;
  }

  bool makeRoomLocked(common::TimePoint now);
  void sweepLocked(common::TimePoint now);
  bool enqueueLocked(const TrackedPtr& event);
  void scheduleDrainLocked();
  void scheduleFlushLocked();
  void drain();
  void flush();
  std::optional<Send> nextSendLocked();
  void onAnswer(const TrackedPtr& event, Write write, int64_t count, Answer answer);
  // The line to log about a failure, or "" when one was logged less than errorLogEvery ago.
  std::string errorLineLocked(const std::string& what);

  kube::Client& client_;
  common::Timers& timers_;
  const common::Clock& clock_;  // the timers' (it outlives them)
  const EventRecorderConfig config_;
  const EventLog log_;
  EventCounters counters_;

  mutable std::mutex mutex_;
  std::map<Key, TrackedPtr> tracked_;
  std::deque<TrackedPtr> queue_;
  size_t inFlight_ = 0;
  bool drainScheduled_ = false;
  bool flushScheduled_ = false;
  EventSpamFilter spam_;
  uint64_t lastUnique_ = 0;  // names stay unique when two Events share a nanosecond
  std::optional<common::TimePoint> nextErrorLine_;
  uint64_t unloggedErrors_ = 0;
  bool closed_ = false;  // no timer may be set: the timers may be gone
};

void EventRecorder::Core::record(const EventOccurrence& occurrence) {
  const EventFields& fields = occurrence.fields;
  if (auto valid = validateEventFields(fields); !valid.isOk()) {
    std::string line;
    {
      std::lock_guard lock(mutex_);
      counters_.droppedInvalid.fetch_add(1, std::memory_order_relaxed);
      line = errorLineLocked("not recorded: " + valid.message());
    }
    if (!line.empty()) log_(line);
    return;
  }
  Key key{fields.regarding, fields.type, fields.reason, fields.action, boundedNote(fields.note)};
  std::lock_guard lock(mutex_);
  if (closed_) return;
  const auto now = clock_.now();
  const auto wall = clock_.wallNow();
  if (auto it = tracked_.find(key); it != tracked_.end()) {
    Tracked& event = *it->second;
    if (now - event.lastObserved < config_.seriesWindow) {
      event.count++;
      event.lastObserved = now;
      event.lastObservedWall = wall;
      counters_.aggregated.fetch_add(1, std::memory_order_relaxed);
      return;  // written back by the next flush
    }
    tracked_.erase(it);  // its window is over: a new Event (a write in flight keeps the old)
  }
  if (queue_.size() >= config_.maxQueued ||
      (tracked_.size() >= config_.maxTracked && !makeRoomLocked(now))) {
    counters_.droppedQueue.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!spam_.allow(budgetOf(occurrence), now)) {
    counters_.droppedSpam.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  auto event = std::make_shared<Tracked>();
  event->fields = fields;
  event->fields.note = key.note;
  const auto nanos = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(wall.time_since_epoch()).count());
  lastUnique_ = std::max(nanos, lastUnique_ + 1);
  event->name = eventName(fields.regarding.name, lastUnique_);
  event->eventTime = wall;
  event->lastObserved = now;
  event->lastObservedWall = wall;
  tracked_.emplace(std::move(key), event);
  (void)enqueueLocked(event);  // room was checked above
  scheduleDrainLocked();
  scheduleFlushLocked();
}

bool EventRecorder::Core::makeRoomLocked(common::TimePoint now) {
  sweepLocked(now);
  if (tracked_.size() < config_.maxTracked) return true;
  auto oldest = tracked_.end();
  for (auto it = tracked_.begin(); it != tracked_.end(); ++it) {
    if (it->second->busy()) continue;
    if (oldest == tracked_.end() || it->second->lastObserved < oldest->second->lastObserved) {
      oldest = it;
    }
  }
  if (oldest == tracked_.end()) return false;
  tracked_.erase(oldest);  // its series ends early: its next occurrence makes a new Event
  return true;
}

void EventRecorder::Core::sweepLocked(common::TimePoint now) {
  std::erase_if(tracked_, [&](const auto& entry) {
    const Tracked& event = *entry.second;
    return now - event.lastObserved >= config_.seriesWindow && !event.busy() && !event.dirty();
  });
}

bool EventRecorder::Core::enqueueLocked(const TrackedPtr& event) {
  if (queue_.size() >= config_.maxQueued) return false;
  event->queued = true;
  queue_.push_back(event);
  return true;
}

void EventRecorder::Core::scheduleDrainLocked() {
  if (closed_ || drainScheduled_ || queue_.empty() || inFlight_ >= config_.maxInFlight) return;
  drainScheduled_ = true;
  timers_.after(common::Duration(0), [weak = weak_from_this()] {
    if (auto core = weak.lock()) core->drain();
  });
}

void EventRecorder::Core::scheduleFlushLocked() {
  if (closed_ || flushScheduled_) return;
  flushScheduled_ = true;
  timers_.after(config_.flushPeriod, [weak = weak_from_this()] {
    if (auto core = weak.lock()) core->flush();
  });
}

std::optional<EventRecorder::Core::Send> EventRecorder::Core::nextSendLocked() {
  while (!queue_.empty()) {
    TrackedPtr event = std::move(queue_.front());
    queue_.pop_front();
    event->queued = false;
    if (!event->dirty()) continue;
    const int64_t count = event->count;
    const std::string ns = eventNamespace(event->fields.regarding);
    std::optional<EventSeries> series;
    if (count >= 2) series = EventSeries{count, event->lastObservedWall};
    event->sending = true;
    if (event->written == 0) {
      auto body =
          newEventBody(event->fields, config_.reporter, event->name, event->eventTime, series);
      return Send{event, Write::kCreate, count,
                  kube::createRequest(eventResource(), ns, std::move(body))};
    }
    return Send{event, Write::kPatch, count,
                kube::patchRequest(eventResource(), ns, event->name, kube::PatchType::kJsonMerge,
                                   seriesPatchBody(*series))};
  }
  return std::nullopt;
}

void EventRecorder::Core::drain() {
  std::vector<Send> sends;
  {
    std::lock_guard lock(mutex_);
    drainScheduled_ = false;
    while (!closed_ && inFlight_ < config_.maxInFlight) {
      auto send = nextSendLocked();
      if (!send) break;
      inFlight_++;
      sends.push_back(std::move(*send));
    }
  }
  // Outside the lock: a fake transport answers at once, on this thread.
  for (auto& send : sends) {
    client_.executeAsync(std::move(send.request), config_.requestOptions,
                         [weak = weak_from_this(), event = send.event, write = send.write,
                          count = send.count](Answer answer) {
                           if (auto core = weak.lock())
                             core->onAnswer(event, write, count, std::move(answer));
                         });
  }
}

void EventRecorder::Core::flush() {
  std::lock_guard lock(mutex_);
  flushScheduled_ = false;
  sweepLocked(clock_.now());
  for (const auto& [key, event] : tracked_) {
    // A full queue leaves the rest for the next flush.
    if (event->dirty() && !event->busy() && !enqueueLocked(event)) break;
  }
  if (!tracked_.empty()) scheduleFlushLocked();
  scheduleDrainLocked();
}

void EventRecorder::Core::onAnswer(const TrackedPtr& event, Write write, int64_t count,
                                   Answer answer) {
  std::string line;
  {
    std::lock_guard lock(mutex_);
    inFlight_--;
    event->sending = false;
    if (answer) {
      auto& counter = write == Write::kCreate ? counters_.created : counters_.seriesWrites;
      counter.fetch_add(1, std::memory_order_relaxed);
      event->written = std::max(event->written, count);
    } else if (closed_) {
      // Shutting down: nothing more is sent.
    } else if (write == Write::kPatch && answer.error().reason == kube::ApiReason::kNotFound) {
      // Deleted meanwhile (Events live an hour by default): created again with its count.
      event->written = 0;
      (void)enqueueLocked(event);  // or by the next flush, if the queue is full
    } else if (write == Write::kCreate &&
               answer.error().reason == kube::ApiReason::kAlreadyExists) {
      // A retried POST whose first attempt had succeeded: it holds what we sent.
      event->written = std::max(event->written, count);
    } else {
      event->failed = true;
      counters_.droppedError.fetch_add(1, std::memory_order_relaxed);
      line = errorLineLocked("cannot write Event " + eventNamespace(event->fields.regarding) + "/" +
                             event->name + " (" + event->fields.reason +
                             "): " + answer.error().toString());
    }
    scheduleDrainLocked();
  }
  if (!line.empty()) log_(line);
}

std::string EventRecorder::Core::errorLineLocked(const std::string& what) {
  const auto now = clock_.now();
  if (nextErrorLine_ && now < *nextErrorLine_) {
    unloggedErrors_++;
    return "";
  }
  std::string line = what;
  if (unloggedErrors_ > 0) {
    line += " (and " + std::to_string(unloggedErrors_) + " more failure(s) since the last report)";
  }
  unloggedErrors_ = 0;
  nextErrorLine_ = now + config_.errorLogEvery;
  return line;
}

EventRecorder::EventRecorder(kube::Client& client, common::Timers& timers,
                             EventRecorderConfig config, EventLog log)
    : core_(std::make_shared<Core>(client, timers, std::move(config), std::move(log))) {}

EventRecorder::~EventRecorder() { core_->close(); }

void EventRecorder::record(const EventOccurrence& occurrence) { core_->record(occurrence); }

const EventCounters& EventRecorder::counters() const { return core_->counters(); }

size_t EventRecorder::tracked() const { return core_->tracked(); }

}  // namespace wop::server
