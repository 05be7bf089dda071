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
// Module sources: `path` is loaded as it is; image, configMapRef and url are fetched by a
// fetch::ModuleFetcher in the background (phase Pending, Ready False FetchingModule meanwhile;
// an upgrade keeps the old version running until its module is here), and a module already
// stored under the digest the spec pins, or under the digest an image's tag resolved to
// (status.resolvedImage, for the same generation), is loaded without asking anyone. A fetch
// that failed for a reason that may pass (a registry down) is tried again every
// fetchRetryPeriod.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "cache/shared_informers.h"
#include "fetch/module_fetcher.h"
#include "kube/client.h"
#include "runtime/lifecycle_listener.h"
#include "runtime/operator_host.h"
#include "runtime/work_queue.h"
#include "server/event_object.h"
#include "server/operator_definitions.h"
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
  // How often a module that could not be fetched (a registry down, a ConfigMap missing) is
  // asked for again.
  std::chrono::milliseconds fetchRetryPeriod{10'000};
  // Where a trusted operator's imagePullSecrets are (a ServiceAccount's operator: its own
  // namespace).
  std::string hostNamespace = "default";
  // Told of upgrades (the host reports the other lifecycle changes itself); may be null.
  runtime::LifecycleListener* lifecycle = nullptr;
  // Whether this replica writes name's status (the one taking its keys); empty: always.
  std::function<bool(const std::string& name)> writesStatus;
};

class WasmOperatorController {
 public:
  // host and client must outlive the controller. Without a fetcher, modules come from paths
  // only.
  WasmOperatorController(runtime::OperatorHost& host, kube::Client& client,
                         std::unique_ptr<fetch::ModuleFetcher> fetcher,
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
    // The module fetch of a generation: in flight, or its result not yet used. Read and
    // written under mutex_ only (not copied out by reconcile).
    std::optional<int64_t> fetchingGeneration;
    std::optional<int64_t> fetchedGeneration;
    std::optional<common::Result<fetch::FetchedModule>> fetched;
  };

  void onObject(const cache::ObjectPtr& object);
  void onGone(const cache::ObjectPtr& object);
  void loop(std::stop_token stop);
  void reconcile(const std::string& name);
  void apply(const std::string& name, const cache::ObjectPtr& object, Tracked& tracked);
  // The module of a definition that is not a path: nullopt while it is being fetched (name is
  // queued again when it is here).
  std::optional<common::Result<fetch::FetchedModule>> moduleOf(
      const std::string& name, int64_t generation, const WasmOperatorDefinition& definition,
      const nlohmann::json& object);
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
  // Last: destroyed first, so no fetch calls back into a controller being torn down.
  std::unique_ptr<fetch::ModuleFetcher> fetcher_;
};

}  // namespace wop::server
