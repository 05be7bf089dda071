#include "server/wasm_operator_status.h"

#include "server/lease_lock.h"

namespace wop::server {

namespace {

using Json = nlohmann::json;

// metav1.Time: RFC 3339 in seconds.
std::string formatTime(common::WallTime now) {
  std::string micro = formatMicroTime(now);  // "...T01:02:03.123456Z"
  return micro.substr(0, micro.find('.')) + "Z";
}

}  // namespace

void setStatusCondition(Json& conditions, const std::string& type, bool status,
                        const std::string& reason, const std::string& message,
                        int64_t observedGeneration, common::WallTime now) {
  if (!conditions.is_array()) conditions = Json::array();
  const std::string value = status ? "True" : "False";
  for (auto& condition : conditions) {
    if (!condition.is_object() || condition.value("type", "") != type) continue;
    if (condition.value("status", "") != value || !condition.contains("lastTransitionTime")) {
      condition["lastTransitionTime"] = formatTime(now);
    }
    condition["status"] = value;
    condition["reason"] = reason;
    condition["message"] = message;
    condition["observedGeneration"] = observedGeneration;
    return;
  }
  conditions.push_back({{"type", type},
                        {"status", value},
                        {"reason", reason},
                        {"message", message},
                        {"observedGeneration", observedGeneration},
                        {"lastTransitionTime", formatTime(now)}});
}

Json wasmOperatorStatus(const WasmOperatorOutcome& outcome, const runtime::OperatorStats* stats,
                        const Json& previous, common::WallTime now) {
  Json status = Json::object();
  status["observedGeneration"] = outcome.generation;
  Json conditions = previous.is_object() && previous.contains("conditions") ? previous["conditions"]
                                                                            : Json::array();
  std::string phase = "Pending";
  std::string readyReason = "Starting";
  std::string readyMessage = "the operator is starting";
  bool ready = false;
  if (outcome.fetching) {
    readyReason = outcome.reason;
    readyMessage = outcome.message;
  } else if (!outcome.running) {
    phase = "Refused";
    readyReason = outcome.reason.empty() ? "Refused" : outcome.reason;
    readyMessage = outcome.message;
  } else if (stats && stats->state == runtime::OperatorState::kRunning) {
    phase = outcome.degraded ? "Degraded" : "Running";
    ready = true;
    readyReason = "Running";
    readyMessage = stats->cachesSynced ? "reconciling" : "caches syncing";
  } else if (stats && stats->state == runtime::OperatorState::kBackoff) {
    phase = "Degraded";
    readyReason = "BackOff";
    readyMessage = stats->lastError.substr(0, stats->lastError.find('\n'));
  } else if (stats && stats->state == runtime::OperatorState::kRefused) {
    phase = "Refused";
    readyReason = "Refused";
    readyMessage = stats->lastError.substr(0, stats->lastError.find('\n'));
  }
  if (outcome.degraded && phase == "Running") phase = "Degraded";
  status["phase"] = phase;
  setStatusCondition(conditions, "Ready", ready, readyReason, readyMessage, outcome.generation,
                     now);
  setStatusCondition(
      conditions, "Degraded", outcome.degraded, outcome.degraded ? outcome.reason : "AsSpecified",
      outcome.degraded ? outcome.message : "the latest spec is applied", outcome.generation, now);
  status["conditions"] = std::move(conditions);
  if (!outcome.resolvedImage.empty()) status["resolvedImage"] = outcome.resolvedImage;
  if (stats) {
    if (!stats->moduleDigest.empty()) status["moduleDigest"] = stats->moduleDigest;
    status["memory"] = stats->swappedOut ? "Swapped" : "Resident";
    status["reconciles"] = stats->reconciles;
    status["errors"] = stats->reconcileErrors;
    status["restarts"] = stats->restarts;
    status["swapOuts"] = stats->swapOuts;
    status["restores"] = stats->restores;
  }
  return status;
}

}  // namespace wop::server
