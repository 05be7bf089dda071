#include "server/lifecycle_events.h"

#include <cstdlib>

namespace wop::server {

namespace {

using runtime::LifecycleChange;

// A trap's reason spans lines (Wasmtime adds a backtrace): the first one says what happened.
std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

struct Shape {
  EventType type;
  const char* reason;
  const char* action;
};

Shape shapeOf(LifecycleChange change) {
  switch (change) {
    case LifecycleChange::kLoaded:
      return {EventType::kNormal, "Loaded", "Load"};
    case LifecycleChange::kRefused:
      return {EventType::kWarning, "Refused", "Load"};
    case LifecycleChange::kTrapped:
      return {EventType::kWarning, "Trapped", "Run"};
    case LifecycleChange::kBackOff:
      return {EventType::kWarning, "BackOff", "Restart"};
    case LifecycleChange::kRestarted:
      return {EventType::kNormal, "Restarted", "Restart"};
    case LifecycleChange::kSwappedOut:
      return {EventType::kNormal, "SwappedOut", "SwapOut"};
    case LifecycleChange::kUpgraded:
      return {EventType::kNormal, "Upgraded", "Upgrade"};
  }
  return {EventType::kNormal, "Unknown", "Unknown"};
}

std::string noteOf(const runtime::LifecycleEvent& event) {
  const std::string who = "Operator " + event.operatorName;
  switch (event.change) {
    case LifecycleChange::kLoaded:
      return who + " loaded and running";
    case LifecycleChange::kRefused:
      return who + " refused: " + firstLine(event.detail);
    case LifecycleChange::kTrapped:
      return who + " failed: " + firstLine(event.detail);
    case LifecycleChange::kBackOff:
      return "Back-off restarting failed operator " + event.operatorName;
    case LifecycleChange::kRestarted:
      return who + " restarted on a fresh instance, every key queued again";
    case LifecycleChange::kSwappedOut:
      return who + " swapped out to disk for " +
             std::to_string(std::chrono::duration_cast<std::chrono::minutes>(event.delay).count()) +
             " minutes: nothing it watches changed";
    case LifecycleChange::kUpgraded:
      return who + " upgraded: " + firstLine(event.detail);
  }
  return who;
}

}  // namespace

std::optional<ObjectReference> podReference(const char* name, const char* ns, const char* uid,
                                            std::string_view fallbackNamespace) {
  if (!name || !*name) return std::nullopt;
  ObjectReference pod{.kind = "Pod", .apiVersion = "v1", .ns = "", .name = name, .uid = ""};
  pod.ns = ns && *ns ? ns : std::string(fallbackNamespace);
  if (pod.ns.empty()) pod.ns = "default";
  if (uid) pod.uid = uid;
  return pod;
}

std::optional<ObjectReference> podFromEnvironment(std::string_view fallbackNamespace) {
  return podReference(std::getenv("POD_NAME"), std::getenv("POD_NAMESPACE"), std::getenv("POD_UID"),
                      fallbackNamespace);
}

EventOccurrence lifecycleOccurrence(const runtime::LifecycleEvent& event,
                                    const ObjectReference& regarding) {
  const Shape shape = shapeOf(event.change);
  return {.fields = {.regarding = regarding,
                     .type = shape.type,
                     .reason = shape.reason,
                     .action = shape.action,
                     .note = noteOf(event)},
          .budget = "operator/" + event.operatorName};
}

LifecycleEvents::LifecycleEvents(RegardingFor regardingFor)
    : regardingFor_(std::move(regardingFor)) {}

LifecycleEvents::~LifecycleEvents() = default;

void LifecycleEvents::attach(EventRecorder* recorder) {
  std::lock_guard lock(mutex_);
  recorder_ = recorder;
}

void LifecycleEvents::changed(const runtime::LifecycleEvent& event) {
  std::lock_guard lock(mutex_);
  if (!recorder_) return;
  recorder_->record(lifecycleOccurrence(event, regardingFor_(event.operatorName)));
}

LifecycleEvents::Session::Session(LifecycleEvents& owner, kube::Client& client,
                                  EventRecorderConfig config, EventLog log)
    : owner_(owner),
      recorder_(
          std::make_unique<EventRecorder>(client, timers_, std::move(config), std::move(log))) {
  owner_.attach(recorder_.get());
}

LifecycleEvents::Session::~Session() {
  owner_.attach(nullptr);  // waits for a change being recorded
  recorder_.reset();       // before the timers it schedules on
}

std::unique_ptr<LifecycleEvents::Session> LifecycleEvents::start(kube::Client& client, EventLog log,
                                                                 EventRecorderConfig config) {
  return std::unique_ptr<Session>(new Session(*this, client, std::move(config), std::move(log)));
}

}  // namespace wop::server
