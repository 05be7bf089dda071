// Operators' lifecycle changes (runtime/lifecycle_listener.h) as Kubernetes Events, written by
// an EventRecorder (server/event_recorder.h). Which object an operator's Events regard is a
// function of its name: in file mode (`wasm-operator run --operators FILE`) the host's own Pod
// for every operator, named by the downward API (POD_NAME, POD_NAMESPACE, POD_UID); a
// WasmOperator controller can regard each operator's object instead, with no change here.
//
// | change     | type    | reason     | action  |
// |------------|---------|------------|---------|
// | loaded     | Normal  | Loaded     | Load    |
// | refused    | Warning | Refused    | Load    |
// | trapped    | Warning | Trapped    | Run     |
// | back-off   | Warning | BackOff    | Restart |
// | restarted  | Normal  | Restarted  | Restart |
// | swapped out| Normal  | SwappedOut | SwapOut |
// | upgraded   | Normal  | Upgraded   | Upgrade |
//
// Notes name the operator, so that the operators sharing the Pod get Events of their own;
// each operator has its own spam filter budget for the same reason. A note carries nothing
// that changes from one occurrence to the next (no delay, no count), so repeats aggregate into
// one Event's series: a back-off's delay and failure count are in the host's log line.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/timers.h"
#include "kube/client.h"
#include "runtime/lifecycle_listener.h"
#include "server/event_object.h"
#include "server/event_recorder.h"

namespace wop::server {

// Which object an operator's Events regard.
using RegardingFor = std::function<ObjectReference(const std::string& operatorName)>;

// The host's Pod from the downward API's variables: name (nullopt when unset or empty: no
// Events), namespace (fallbackNamespace when unset), uid (optional). Pure: tests pass values.
std::optional<ObjectReference> podReference(const char* name, const char* ns, const char* uid,
                                            std::string_view fallbackNamespace);
// The same from the environment: POD_NAME, POD_NAMESPACE, POD_UID.
std::optional<ObjectReference> podFromEnvironment(std::string_view fallbackNamespace);

// The Event a lifecycle change becomes (the table above).
EventOccurrence lifecycleOccurrence(const runtime::LifecycleEvent& event,
                                    const ObjectReference& regarding);

class LifecycleEvents final : public runtime::LifecycleListener {
 public:
  explicit LifecycleEvents(RegardingFor regardingFor);
  ~LifecycleEvents() override;

  // Sending, from start() until the session is destroyed: a recorder on a timer thread of
  // its own. Changes outside a session are not recorded.
  class Session {
   public:
    ~Session();  // detaches the recorder, then stops it
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    const EventCounters& counters() const { return recorder_->counters(); }

   private:
    friend class LifecycleEvents;
    Session(LifecycleEvents& owner, kube::Client& client, EventRecorderConfig config, EventLog log);
    LifecycleEvents& owner_;
    common::ThreadTimers timers_;
    std::unique_ptr<EventRecorder> recorder_;
  };
  // The session must end before client goes, and before this object.
  [[nodiscard]] std::unique_ptr<Session> start(kube::Client& client, EventLog log,
                                               EventRecorderConfig config = {});

  void changed(const runtime::LifecycleEvent& event) override;

 private:
  void attach(EventRecorder* recorder);

  const RegardingFor regardingFor_;
  std::mutex mutex_;  // guards recorder_; held while recording, so a detach waits for it
  EventRecorder* recorder_ = nullptr;
};

}  // namespace wop::server
