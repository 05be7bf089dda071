// The status of a WasmOperator (deploy/crds/wasmoperators.yaml) as the host's controller
// writes it: pure functions, so every rule is tested without a server.
//
// Conditions have meta.SetStatusCondition's semantics: lastTransitionTime changes only when a
// condition's status changes; reason, message and observedGeneration are updated in place.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/clock.h"
#include "runtime/operator.h"

namespace wop::server {

// What the controller last decided about one object.
struct WasmOperatorOutcome {
  int64_t generation = 0;
  // Ready: the operator runs (a spec of this generation, or an older one when Degraded).
  bool running = false;
  // Degraded: the latest spec could not be applied (invalid, or its module refused) while an
  // older version keeps running. reason and message say why (message one line).
  bool degraded = false;
  std::string reason;   // CamelCase
  std::string message;  // one line
  // The module is being fetched (a first load: nothing runs yet). reason and message say from
  // where.
  bool fetching = false;
  // The refusal may pass by itself (a registry down, a ConfigMap not there yet): tried again
  // sooner than one that needs a new spec.
  bool transient = false;
  // image sources: the reference with its tag resolved to the manifest's digest.
  std::string resolvedImage;
};

// Sets (or adds) condition `type` in conditions (a JSON array), as meta.SetStatusCondition.
void setStatusCondition(nlohmann::json& conditions, const std::string& type, bool status,
                        const std::string& reason, const std::string& message,
                        int64_t observedGeneration, common::WallTime now);

// The whole status object: outcome, the running operator's stats (when running: its counters
// and the digest of the module it runs), and the conditions carried over from previous (the
// last status written; null when none).
nlohmann::json wasmOperatorStatus(const WasmOperatorOutcome& outcome,
                                  const runtime::OperatorStats* stats,
                                  const nlohmann::json& previous, common::WallTime now);

}  // namespace wop::server
