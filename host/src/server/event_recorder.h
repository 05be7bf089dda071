// Writes events.k8s.io/v1 Events with client-go's semantics (tools/events and tools/record),
// for any object a caller names (the host's Pod in file mode; a WasmOperator later):
//
//  - Aggregation: an occurrence identical to one recorded within the series window (6 minutes
//    after the last occurrence, client-go's finishTime) is not a new Event object: it counts
//    into that Event's series (series.count, series.lastObservedTime). Identical means the same
//    regarding object, type, reason, action and note (the reporter is the recorder's own).
//  - A series is written back with a PATCH at most once per flush period (30 s, client-go's
//    refresh period), not per occurrence; a series whose Event was deleted meanwhile (404) is
//    created again with its count.
//  - Spam filter: a new Event object takes a token from its budget (server/event_spam_filter.h:
//    burst 25, one token back every 5 minutes); without one it is dropped. Occurrences folded
//    into a series take none: they cost no request, and the series writes are bounded by the
//    flush period. The budget is the regarding object's unless the caller names another
//    (EventFields' budget), e.g. each operator's own while all of them regard the host's Pod.
//  - Bounds: at most maxTracked Events remembered for aggregation (when full, expired ones
//    go, then the one seen longest ago: its series just ends early), at most maxQueued writes
//    waiting and maxInFlight requests sent. What does not fit is dropped and counted.
//  - An API error ends that Event's writes (no retry beyond the client's own for 429, 5xx and
//    connection errors): it is counted and logged, at most one line per errorLogEvery with the
//    number of failures since the last line.
//
// record() never blocks and never sends: it takes a short lock, and the writes are sent from
// the timers' thread (common::Timers) with Client::executeAsync; answers come back on the
// client's I/O thread. In tests everything runs on ManualTimers and a fake transport.
//
// Thread-safety: every method may be called from any thread. Answers and timers that come
// after the recorder is gone do nothing (they hold only a weak reference).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/timers.h"
#include "kube/client.h"
#include "server/event_object.h"

namespace wop::server {

struct EventRecorderConfig {
  EventReporter reporter{"wasm-operator.dev/host", ""};  // empty instance: the host name
  std::chrono::milliseconds seriesWindow{6 * 60'000};
  std::chrono::milliseconds flushPeriod{30'000};
  int spamBurst = 25;
  std::chrono::milliseconds spamRefillEvery{5 * 60'000};
  size_t maxSpamKeys = 4096;
  size_t maxTracked = 4096;
  size_t maxQueued = 1024;
  size_t maxInFlight = 4;
  std::chrono::milliseconds errorLogEvery{5 * 60'000};
  // The host acts as itself; its own share of the client's QPS budget.
  kube::RequestOptions requestOptions{.flow = "wasm-operator/events"};
};

// What happened to recorded occurrences; relaxed atomics, read by the metrics page.
struct EventCounters {
  std::atomic<uint64_t> created{0};       // Event objects created (again, after a 404)
  std::atomic<uint64_t> seriesWrites{0};  // series patched
  std::atomic<uint64_t> aggregated{0};    // occurrences counted into a series
  // Dropped occurrences, by why.
  std::atomic<uint64_t> droppedSpam{0};     // the spam filter's budget was spent
  std::atomic<uint64_t> droppedQueue{0};    // the write queue or the tracked set was full
  std::atomic<uint64_t> droppedInvalid{0};  // a field the API server would refuse
  std::atomic<uint64_t> droppedError{0};    // the API server refused or could not be reached
};

// A line about what went wrong (an API error, an invalid Event); defaults to stderr.
using EventLog = std::function<void(std::string_view message)>;

struct EventOccurrence {
  EventFields fields;
  // Whose spam filter budget a new Event takes; empty: the regarding object's.
  std::string budget;
};

class EventRecorder {
 public:
  // client and timers must outlive the recorder.
  EventRecorder(kube::Client& client, common::Timers& timers, EventRecorderConfig config = {},
                EventLog log = {});
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Records one occurrence; returns at once.
  void record(const EventOccurrence& occurrence);

  const EventCounters& counters() const;
  // Events remembered for aggregation (for tests and bounds).
  size_t tracked() const;

 private:
  class Core;
  std::shared_ptr<Core> core_;  // shared with requests and timers that may outlive this
};

}  // namespace wop::server
