// The host's own controller of WasmOperator objects (issue 13): `wasm-operator run` without
// --operators runs the operators the cluster declares (deploy/crds/wasmoperators.yaml), level-
// based, on a runtime::WorkQueue like the guests' controllers:
//
//  - an object the host does not run is loaded (OperatorHost::add);
//  - a new generation replaces the running version (OperatorHost::replace): a spec that is
//    invalid or whose module is refused leaves the old version running, Degraded with the
//    one-line reason;
//  - an object gone is unloaded (OperatorHost::remove): its watches, queues and snapshot go.
//
// Status goes through the status subresource after every decision and every statusPeriod
// while the operator's counters move (written only when it differs from the last one). Which
// object an operator's lifecycle Events regard is answered by regarding().
//
// Module sources: `path` (with its optional sha256) for now; the others are refused with a
// message saying so (server/operator_definitions.h).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "cache/shared_informers.h"
#include "kube/client.h"
#include "runtime/lifecycle_listener.h"
#include "runtime/operator_host.h"
#include "runtime/work_queue.h"
#include "server/event_object.h"
#include "server/wasm_operator_status.h"

namespace wop::server {

// wasm-operator.dev/v1alpha1 wasmoperators, cluster-scoped.
const kube::ResourceInfo& wasmOperatorResource();

struct WasmOperatorControllerOptions {
  // How long an upgrade lets the old version's reconciles in flight finish.
  std::chrono::milliseconds drainTimeout{30'000};
  std::chrono::milliseconds statusPeriod{10'000};
  // How often a refused operator is tried again with the same spec.
  std::chrono::milliseconds refusedRetryPeriod{60'000};
  // Told of upgrades (the host reports the other lifecycle changes itself); may be null.
  runtime::LifecycleListener* lifecycle = nullptr;
  // Whether this replica writes name's status (the one taking its keys); empty: always.
  std::function<bool(const std::string& name)> writesStatus;
};

class WasmOperatorController {
 public:
  // host and client must outlive the controller.
  WasmOperatorController(runtime::OperatorHost& host, kube::Client& client,
                         WasmOperatorControllerOptions options = {});
  ~WasmOperatorController();  // stops; the operators it loaded stay with the host
  WasmOperatorController(const WasmOperatorController&) = delete;
  WasmOperatorController& operator=(const WasmOperatorController&) = delete;

  void start();
  void stop();
  // For /readyz: the WasmOperators have been listed and each processed once.
  bool synced() const { return synced_.load(); }
  // The WasmOperator an operator's Events regard (its uid when known).
  ObjectReference regarding(const std::string& operatorName) const;
  // An operator's life changed (a trap, a restart, a swap-out): its status is written at once
  // rather than at its next period. Quick; any thread.
  void changed(const runtime::LifecycleEvent& event);

 private:
  struct Tracked {
    cache::ObjectPtr object;                     // as last seen in the cache; null once deleted
    std::optional<WasmOperatorOutcome> outcome;  // what the host runs for it, if anything
    nlohmann::json lastStatus;                   // the last status written
    std::chrono::steady_clock::time_point appliedAt{};  // when outcome was last decided
  };

  void onObject(const cache::ObjectPtr& object);
  void onGone(const cache::ObjectPtr& object);
  void loop(std::stop_token stop);
  void reconcile(const std::string& name);
  void apply(const std::string& name, const cache::ObjectPtr& object, Tracked& tracked);
  void writeStatus(const std::string& name, Tracked& tracked);

  runtime::OperatorHost& host_;
  kube::Client& client_;
  const WasmOperatorControllerOptions options_;
  runtime::WorkQueue queue_;
  std::atomic<bool> synced_{false};
  std::atomic<bool> listed_{false};

  mutable std::mutex mutex_;  // guards tracked_ and wake_
  std::map<std::string, Tracked> tracked_;
  std::condition_variable_any wake_;

  cache::Subscription watch_;
  std::jthread worker_;
};

}  // namespace wop::server
