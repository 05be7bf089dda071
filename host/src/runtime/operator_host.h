// The host of many operators in one process: one Wasmtime engine, one artifact cache, one
// linker with ABI v1, one Kubernetes client with shared informers, and a small pool of worker
// threads that enter guests. Operators are scheduled by the worker time they used (a CFS-like
// run queue, runtime/fair_run_queue.h), one slice of a few milliseconds at a time, so a busy
// operator slows itself, not its neighbours; a reconcile waiting on the API server holds no
// thread (its API call completes on the client's I/O thread and is queued for its operator).
//
// Thread-safety: add/status/latency may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cache/shared_informers.h"
#include "common/clock.h"
#include "common/timers.h"
#include "kube/client.h"
#include "runtime/fair_run_queue.h"
#include "runtime/log_sink.h"
#include "runtime/memory_budget.h"
#include "runtime/operator.h"
#include "runtime/operator_environment.h"
#include "runtime/operator_spec.h"
#include "runtime/shards.h"
#include "wasm/engine.h"
#include "wasm/guest_linker.h"
#include "wasm/module_cache.h"
#include "wop_abi.h"

namespace wop::runtime {

struct OperatorReport {
  OperatorStats stats;
  std::shared_ptr<const OperatorMetrics> metrics;
};

// Swapping idle operators to disk (docs/swap.md).
struct SwapOptions {
  bool enabled = false;
  // Where snapshots go; the host uses host-<pid> inside it and empties that at start.
  // Default: $XDG_CACHE_HOME or ~/.cache, /wasm-operator/snapshots.
  std::string directory;
  // An operator with no work for this long is swapped out (unless prediction says it will be
  // woken again too soon for that to pay).
  std::chrono::milliseconds idleAfter{2000};
  // Learn each operator's wake-ups, restore ahead of predicted ones, keep frequent ones resident.
  bool predict = true;
  // With prediction: swap out after this much idle time (instead of idleAfter) when the next
  // predicted wake is confidently far; the prefetch restores it (WakePredictorOptions::
  // settleAfter). Zero: off.
  std::chrono::milliseconds settleAfter{0};
  // Resident linear memory of all operators together above which the idle ones whose next
  // wake is furthest away are swapped out before their idle period ends
  // (runtime/memory_budget.h). Zero: no budget.
  uint64_t memoryBudgetBytes = 0;
};

struct HostOptions {
  int workers = 2;
  std::string artifactDirectory;  // default: $XDG_CACHE_HOME or ~/.cache, /wasm-operator/artifacts
  std::chrono::milliseconds restartBackoffBase{1000};
  std::chrono::milliseconds restartBackoffMax{300'000};
  bool checkPermissions = true;  // SubjectAccessReview of every declared watch at start
  RateLimits queueLimits;
  SwapOptions swap;
  int32_t logLevel = WOP_LOG_INFO;  // lines below it (WOP_LOG_*) are not written
  // Replicas splitting the operators (runtime/shards.h): each shard has its own key gate.
  int shards = 1;
  // Figures for benchmarks (runtime/figure_recorder.h); none by default.
  std::shared_ptr<OperatorObserver> observer;
  // Lifecycle changes of every operator, refusals by add() included (the server turns them
  // into Events: server/lifecycle_events.h); none by default.
  std::shared_ptr<LifecycleListener> lifecycle;
  // Operators' outbound HTTP requests (wop_http_call), shared by all; null: none are made.
  std::shared_ptr<outbound::OutboundClient> outbound;
  // Address space reserved per guest memory (wasm/engine.h); 0: Wasmtime's default. An
  // operator whose memory limit is above it is refused.
  uint64_t guestMemoryReservationBytes = 0;
  // Namespaces of one resource (and selectors) watched before later watches of it share one
  // cluster-wide watch, if the host may list and watch it cluster-wide (cache/shared_informers.h);
  // 0: one watch per namespace always.
  size_t clusterWideWatchAfter = 0;
};

// Waits, polling every 10 ms, until inFlight() is 0, timeout has passed or *stop is set;
// returns what is still in flight. For a drain before shutdown, a shard's hand-over, an upgrade.
int64_t awaitReconciles(const std::function<int64_t()>& inFlight, std::chrono::milliseconds timeout,
                        const std::atomic<bool>* stop = nullptr);

class OperatorHost final : private OperatorScheduler, private BackgroundJobs {
 public:
  OperatorHost(kube::Client& client, HostOptions options = {}, LogSink log = stderrLogSink());
  ~OperatorHost() override;
  OperatorHost(const OperatorHost&) = delete;
  // Where compiled modules are kept (HostOptions::artifactDirectory, or its default).
  std::string artifactDirectory() const;
  OperatorHost& operator=(const OperatorHost&) = delete;

  // Loads and starts an operator. Fails (and the operator is not added) when its module is
  // refused (not Wasm, wrong ABI, unknown imports, memory above its cap), its memory limit is
  // above HostOptions::guestMemoryReservationBytes, its declarations
  // are invalid, or its ServiceAccount may not watch what it declared. A trap or timeout
  // during start is not a refusal: the operator retries with backoff.
  common::Status add(const OperatorSpec& spec);
  // Adds an operator whose guests come from a factory of the caller's (spec.modulePath and
  // the memory limit are not used): the ring benchmark's native operators.
  common::Status add(const OperatorSpec& spec, std::shared_ptr<GuestFactory> guests);
  // add(spec) for each spec, up to `parallel` at a time on threads that end with the call. A
  // load mostly waits for the API server (its permission reviews), so loads in flight hide
  // each other's waits. Returns add's status for each spec, in the specs' order.
  // While the memory budget is swapping operators out, each load waits for it (up to 100 ms).
  std::vector<common::Status> addAll(const std::vector<OperatorSpec>& specs, size_t parallel);
  void remove(const std::string& name);
  // An upgrade: the operator named spec.name runs spec from now on (added if absent). The new
  // module is loaded and checked first, and a refusal leaves the old version running. Then the
  // old version starts no new reconcile, its reconciles in flight get up to drainTimeout, and
  // the new version starts with every key its informers replay from the cache. Blocks the
  // caller for the drain.
  common::Status replace(const OperatorSpec& spec, std::chrono::milliseconds drainTimeout);

  std::vector<OperatorStats> stats() const;
  std::optional<OperatorStats> stats(const std::string& name) const;
  // Every operator's stats with its metrics, for the metrics endpoint.
  std::vector<OperatorReport> reports() const;
  // Bytes of compiled modules in the artifact folder (a listing of it: a scrape's cost).
  uint64_t artifactCacheBytes();
  int workerCount() const { return static_cast<int>(workers_.size()); }
  cache::SharedInformers& informers() { return informers_; }
  // The module cache's counts (compiled, mapped, shared, parked); zeros before the first Wasm
  // operator.
  wasm::ModuleCacheCounters moduleCounters();
  // This host's own snapshot folder; empty when swapping is off.
  const std::string& snapshotDirectory() const { return snapshotDirectory_; }
  // Whether operators start reconciles (OperatorEnvironment::takingKeys); true from the start.
  // Turning it on schedules every operator, so keys queued meanwhile run at once. The first
  // form sets every shard's gate; the second one shard's (0 <= shard < shardCount()).
  void setTakingKeys(bool taking);
  void setTakingKeys(int shard, bool taking);
  bool takingKeys(int shard) const { return shardGate(shard).load(); }
  int shardCount() const { return static_cast<int>(takingKeys_.size()); }
  // The shard an operator of this name belongs to (runtime/shards.h).
  int shardOf(const std::string& operatorName) const {
    return runtime::shardOf(operatorName, shardCount());
  }
  // Reconciles started and not finished, over all operators (for a graceful shutdown) or over
  // one shard's (to hand the shard over).
  int64_t reconcilesInFlight() const;
  int64_t reconcilesInFlight(int shard) const;

  void log(const std::string& operatorName, int32_t level, const std::string& message,
           const LogFields& fields = {});

 private:
  void waitForMemoryBudget();
  // OperatorScheduler, BackgroundJobs: what the operators get of the host.
  void schedule(const std::shared_ptr<Operator>& op) override;
  void run(std::function<void()> job) override;
  // The guests of a Wasm operator: its module loaded (pinned digest checked), compiled or
  // mapped, linked against ABI v1.
  common::Result<std::shared_ptr<GuestFactory>> wasmGuests(const OperatorSpec& spec);
  // Reports a module refused before its operator exists; returns why, naming the operator.
  common::Status refused(const std::string& name, const common::Status& why);
  OperatorEnvironment environment(const std::string& operatorName);
  std::atomic<bool>& shardGate(int shard);
  const std::atomic<bool>& shardGate(int shard) const;
  std::vector<std::shared_ptr<Operator>> operators() const;
  void workerLoop(std::stop_token stop);
  void backgroundLoop(std::stop_token stop);

  kube::Client& client_;
  const HostOptions options_;
  LogSink logSink_;
  std::mutex logMutex_;
  struct Wasm {
    Wasm(const std::string& artifactDirectory, wasm::EngineOptions engineOptions)
        : engine(engineOptions), modules(engine, artifactDirectory) {}
    wasm::Engine engine;
    wasm::ModuleCache modules;
    std::unique_ptr<wasm::GuestLinker> linker;
  };
  Wasm& wasm();
  std::mutex wasmMutex_;
  std::unique_ptr<Wasm> wasm_;  // made at the first Wasm operator
  cache::SharedInformers informers_;
  OperatorObserver noObserver_;
  std::vector<std::atomic<bool>> takingKeys_;  // one gate per shard, fixed at construction
  std::atomic<uint64_t> wasmAdds_{0};          // Wasm operators added, for the open-files check
  std::string snapshotDirectory_;
  // Null: no budget. Declared before operators_, so it outlives them.
  std::unique_ptr<MemoryBudget> memoryBudget_;

  mutable std::mutex mutex_;  // guards operators_, runQueue_
  std::condition_variable_any readyCv_;
  std::map<std::string, std::shared_ptr<Operator>> operators_;
  FairRunQueue<std::shared_ptr<Operator>> runQueue_;

  std::mutex backgroundMutex_;
  std::condition_variable_any backgroundCv_;
  std::deque<std::function<void()>> backgroundJobs_;
  std::jthread background_;
  std::vector<std::jthread> workers_;
  // Last: destroyed first, so no timer runs into a host being taken apart.
  common::ThreadTimers timers_;
};

}  // namespace wop::runtime
