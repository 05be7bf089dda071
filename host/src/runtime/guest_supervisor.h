// The life of an operator's guest instance: made and initialised (wop_init, which declares
// the controllers), entered one call at a time, and dropped when an entry traps, times out or
// breaks the ABI contract; restarted after an exponential backoff that resets once a run was
// healthy for a minute (common::RestartBackoff).
//
// Thread-safety: the operator's worker only (state() may be read from any thread).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/status.h"
#include "hostcalls/operator_services.h"
#include "runtime/declaration.h"
#include "runtime/operator_guest.h"

namespace wop::runtime {

enum class OperatorState { kStarting, kRunning, kBackoff, kRefused, kStopped };
const char* operatorStateName(OperatorState state);

class GuestSupervisor {
 public:
  GuestSupervisor(const common::Clock& clock, std::chrono::milliseconds backoffBase,
                  std::chrono::milliseconds backoffMax);

  // A fresh instance, initialised. neverInstantiable: no retry can make it (a refusal).
  common::Status instantiate(GuestFactory& factory, hostcalls::OperatorServices& services,
                             bool& neverInstantiable);
  // What the last wop_init declared.
  std::vector<ControllerDeclaration> takeDeclarations() { return std::move(declared_); }
  // A guest restored from a snapshot takes the place of the instance.
  void adopt(std::unique_ptr<OperatorGuest> guest);
  void drop() { guest_.reset(); }
  OperatorGuest* guest() { return guest_.get(); }

  // wop_map, collecting the keys the guest emits.
  common::Result<std::vector<std::string>> map(uint32_t controller, uint32_t watch,
                                               std::string_view objectJson);

  // After an entry returned status: why the instance must go, if it must.
  enum class Fault { kNone, kFailed, kLostMemory };
  Fault entryFault(const common::Status& status, const char* what, std::string& reason) const;

  // ---- host calls that belong to the life cycle
  hostcalls::HostResult<int32_t> declare(std::string_view declarationJson);
  hostcalls::HostResult<int32_t> emitKey(std::string_view key);
  void contractViolation(std::string what);

  // ---- state and backoff
  OperatorState state() const { return state_; }
  void setState(OperatorState state) { state_ = state; }
  // A start succeeded: the healthy run begins.
  void running();
  // The instance failed: the delay before the next start (the state becomes kBackoff).
  std::chrono::milliseconds failed();
  common::TimePoint restartAt() const { return restartAt_; }
  int consecutiveFailures() const { return backoff_.consecutiveFailures(); }
  bool restartDue() const { return clock_.now() >= restartAt_; }

 private:
  const common::Clock& clock_;
  std::unique_ptr<OperatorGuest> guest_;
  common::RestartBackoff backoff_;
  common::TimePoint restartAt_{};
  std::atomic<OperatorState> state_{OperatorState::kStarting};
  std::vector<ControllerDeclaration> declared_;  // collected during wop_init
  bool initializing_ = false;
  bool mapping_ = false;
  std::vector<std::string> mappedKeys_;
  std::optional<std::string> violation_;
};

}  // namespace wop::runtime
