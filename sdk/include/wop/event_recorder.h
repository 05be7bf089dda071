// EventRecorder: events.k8s.io/v1 Events about objects, with client-go's semantics
// (tools/events), written through the Client as the operator's ServiceAccount:
//
//   EventRecorder events_{{.reportingController = "replicator.wasm-operator.dev/replicator"}};
//   ...
//   auto recorded = co_await events_.event(ctx.client, *source, EventType::Warning,
//                                          "CopyFailed", "Copy", "namespace b is terminating");
//   if (recorded.failed()) log::warn(recorded.error());
//
// - An occurrence identical to one recorded within the series window (6 minutes after its last
//   occurrence) is not a new Event: it counts into that Event's series (series.count,
//   series.lastObservedTime). Identical: the same regarding object, type, reason, action and
//   note. The first repeat is written at once (as client-go does); later ones are written back
//   at most once per flush period (30 s) per Event. A guest has no timers, so the write-back
//   happens on the next event() of the recorder (each writes back up to maxFlushPerEvent due
//   series besides its own) or on flush(); counts of the last 30 s before an operator goes
//   quiet are written when it records again.
// - A series whose Event was deleted meanwhile (Events expire after an hour) is created again
//   with its count.
// - Spam filter (client-go's tools/record): a new Event takes a token of its regarding
//   object's budget (burst 25, one token back every 5 minutes); without one it is dropped.
//   Occurrences counted into a series take none.
// - The Event lives in the regarding object's namespace, or in "default" for a cluster-scoped
//   object. reportingController must be a qualified name ("example.com/name", the API server
//   requires it), reportingInstance at most 128 bytes (default: the controller). The note is
//   made valid UTF-8 and cut to 1024 bytes; reason and action must be 1..128 bytes.
// - Memory is bounded: at most maxTracked series (when full, expired ones go, then the one seen
//   longest ago: its series ends early and unwritten counts are lost) and maxSpamKeys budgets.
//
// The operator's ServiceAccount needs create and patch on events.k8s.io events.
// Lifetime: a member of the operator (it must outlive every event() Task it returns). Not
// thread-safe (a guest has one thread); reconciles may interleave their event() calls.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "wop/client.h"
#include "wop/clock.h"
#include "wop/task.h"

namespace wop::sdk {

using nlohmann::json;

enum class EventType { Normal, Warning };

namespace detail {
struct EventOccurrence;
struct EventSeries;
}  // namespace detail

struct EventRecorderOptions {
  std::string reportingController{};  // required: a qualified name, "example.com/my-operator"
  std::string reportingInstance{};    // "" = reportingController (cut to 128 bytes)
  int64_t seriesWindowMs = 6 * 60'000;
  int64_t flushPeriodMs = 30'000;
  int spamBurst = 25;
  int64_t spamRefillMs = 5 * 60'000;
  size_t maxTracked = 256;
  size_t maxSpamKeys = 512;
  size_t maxFlushPerEvent = 2;
};

// What became of one occurrence.
struct EventRecorded {
  enum class What {
    kCreated,        // a new Event object
    kSeriesWritten,  // counted into a series, which was written now
    kCounted,        // counted into a series, written back later
    kDropped,        // the spam filter's budget was spent, or no room to track it
    kInvalid,        // a field the API server would refuse; nothing sent
    kFailed,         // the API server refused or could not be reached
  };
  What what = What::kCounted;
  std::string error;  // for kInvalid and kFailed

  bool failed() const { return what == What::kInvalid || what == What::kFailed; }
};

class EventRecorder {
 public:
  explicit EventRecorder(EventRecorderOptions options, const Clock& clock = systemClock());
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Records one occurrence about `regarding` (its apiVersion, kind, namespace, name and uid
  // are read now; the object need not outlive the call). reason: UpperCamelCase, why;
  // action: what was done or failed; note: for humans.
  Task<EventRecorded> event(Client& client, const json& regarding, EventType type,
                            std::string reason, std::string action, std::string note);
  // Writes back every series with counts the server does not have yet, and forgets expired
  // ones; returns how many writes failed.
  Task<size_t> flush(Client& client);

  size_t tracked() const;

 private:
  using Occurrence = detail::EventOccurrence;
  using SeriesPtr = std::shared_ptr<detail::EventSeries>;
  Task<EventRecorded> record(Client& client, Occurrence occurrence);
  Task<EventRecorded> create(Client& client, SeriesPtr series);
  Task<EventRecorded> writeBack(Client& client, SeriesPtr series);
  Task<size_t> flushDue(Client& client, size_t max, bool dueOnly);
  void sweep(int64_t now);
  bool makeRoom(int64_t now);
  bool allowNew(const std::string& budget, int64_t now);

  const EventRecorderOptions options_;
  const Clock& clock_;
  std::map<std::string, SeriesPtr> tracked_;  // by what makes occurrences identical
  struct Bucket {
    double tokens;
    int64_t counted;  // when tokens was brought up to date
    int64_t used;
  };
  std::map<std::string, Bucket> budgets_;  // spam filter, by regarding object
  int64_t lastUnique_ = 0;                 // Event names stay unique within one nanosecond
};

}  // namespace wop::sdk
