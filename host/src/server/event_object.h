// The events.k8s.io/v1 Event as the host writes it: what a caller records (EventFields), the
// checks and bounds the API server would apply, and the request bodies. Pure functions, no I/O
// (server/event_recorder.h sends what these build), so every rule is tested without a server.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "kube/request.h"

namespace wop::server {

// The object an Event is about (corev1.ObjectReference, the fields that identify it).
struct ObjectReference {
  std::string kind;        // "Pod"
  std::string apiVersion;  // "v1"
  std::string ns;          // empty for a cluster-scoped object
  std::string name;
  std::string uid;  // optional

  auto operator<=>(const ObjectReference&) const = default;
};

enum class EventType { kNormal, kWarning };
const char* eventTypeName(EventType type);

// One occurrence, as a caller records it.
struct EventFields {
  ObjectReference regarding;
  EventType type = EventType::kNormal;
  std::string reason;  // CamelCase, why: "Trapped"
  std::string action;  // CamelCase, what was done or failed: "Restart"
  std::string note;    // for humans; bounded by boundedNote
};

// The reporter, the same for every Event of a recorder.
struct EventReporter {
  std::string controller;  // reportingController: a qualified name, "wasm-operator.dev/host"
  std::string instance;    // reportingInstance: who in the controller, at most 128 bytes
};

// An Event seen more than once: how often, and when last (events.k8s.io/v1 EventSeries).
struct EventSeries {
  int64_t count = 0;  // >= 2: the API server refuses a smaller one
  common::WallTime lastObservedTime{};
};

// events.k8s.io/v1 events, namespaced.
const kube::ResourceInfo& eventResource();

// Refuses what the API server would (kInvalidArgument, naming the field): a reason that is not
// CamelCase ([A-Z][A-Za-z0-9]*, at most 128 bytes), an action that is not [A-Za-z0-9]+ or is
// longer, a regarding object without kind, apiVersion or a name that is a DNS subdomain, a
// namespace that is not a DNS label. The note is not checked: boundedNote makes it fit.
common::Status validateEventFields(const EventFields& fields);

// The note made valid UTF-8 (ill-formed bytes become U+FFFD) and cut to at most 1024 bytes at
// a character boundary, as the API server requires.
std::string boundedNote(std::string_view note);

// Where the Event lives: the regarding object's namespace, or "default" for a cluster-scoped
// object (client-go's tools/events does the same).
std::string eventNamespace(const ObjectReference& regarding);

// "<regarding name>.<unique as hex>", as client-go names Events (it uses the time in
// nanoseconds); the regarding name is cut so that the whole stays a DNS subdomain.
std::string eventName(std::string_view regardingName, uint64_t unique);

// The reporter's instance from a host name: cut to 128 bytes, "unknown" when empty.
std::string reportingInstanceFrom(std::string_view hostName);

// The body of the POST that creates the Event; with series, an Event first seen at eventTime
// and seen series->count times since (a re-creation after the first one was deleted).
std::string newEventBody(const EventFields& fields, const EventReporter& reporter,
                         const std::string& name, common::WallTime eventTime,
                         const std::optional<EventSeries>& series = std::nullopt);

// A JSON merge patch that sets the Event's series.
std::string seriesPatchBody(const EventSeries& series);

}  // namespace wop::server
