// How the runtime tells the layer above it (server/lifecycle_events.h, which turns them into
// Kubernetes Events) that an operator's life changed: loaded, refused, trapped, backing off,
// restarted, swapped out for long. The runtime knows nothing of Events; the listener knows
// nothing of guests.
//
// Called on a worker inside an operator's slice, on add()'s thread, or on the timer thread:
// changed() must return at once (no I/O, no waiting on a lock held across I/O) and must not
// call back into the host. An exception it throws is caught and logged by the caller.
#pragma once

#include <chrono>
#include <exception>
#include <string>

namespace wop::runtime {

enum class LifecycleChange {
  kLoaded,      // the first start succeeded: the operator runs
  kRefused,     // not loaded and not retried: module refused, invalid declaration, no permission
  kTrapped,     // an entry trapped, timed out or broke the ABI contract (or a start failed)
  kBackOff,     // a restart is scheduled after a failure
  kRestarted,   // running again on a fresh instance
  kSwappedOut,  // swapped out to disk and still out after OperatorSettings::swappedOutEventAfter
  kUpgraded,    // a new module took the operator's place (no source yet: the WasmOperator
                // controller's upgrade will report it)
};

struct LifecycleEvent {
  LifecycleChange change = LifecycleChange::kLoaded;
  std::string operatorName;
  // kRefused, kTrapped: why, as the log says it (may span lines: a trap's backtrace).
  std::string detail;
  // kBackOff: consecutive failures so far.
  int failures = 0;
  // kBackOff: the wait before the next start; kSwappedOut: how long it has been out.
  std::chrono::milliseconds delay{0};
};

class LifecycleListener {
 public:
  virtual ~LifecycleListener() = default;
  virtual void changed(const LifecycleEvent& event) = 0;
};

// Tells listener (if any) of event. A listener that throws is no failure of the caller's:
// what it threw is returned for the caller's log line; empty when all went well.
inline std::string tellListener(LifecycleListener* listener, const LifecycleEvent& event) {
  if (!listener) return {};
  try {
    listener->changed(event);
  } catch (const std::exception& e) {
    return std::string("the lifecycle listener failed: ") + e.what();
  }
  return {};
}

}  // namespace wop::runtime
