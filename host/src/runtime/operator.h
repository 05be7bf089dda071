// One operator: its guest, its controllers, its API calls and its swapping, each a part of
// its own (guest_supervisor.h, controllers.h, api_calls.h, swapper.h); this class wires them
// and runs slices. The only place its guest is entered is runSlice(), which the host's
// workers call for one operator at a time.
//
// Failure model: a trap, a timeout or a broken ABI contract drops the instance and restarts
// the operator on a fresh one after an exponential backoff; since reconciles are
// level-triggered, every key of its controllers is queued again, so nothing is lost. The
// other operators never notice.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "hostcalls/operator_services.h"
#include "runtime/api_calls.h"
#include "runtime/controller_setup.h"
#include "runtime/controllers.h"
#include "runtime/guest_supervisor.h"
#include "runtime/http_calls.h"
#include "runtime/log_budget.h"
#include "runtime/operator_environment.h"
#include "runtime/operator_guest.h"
#include "runtime/operator_metrics.h"
#include "runtime/operator_spec.h"
#include "runtime/swapper.h"

namespace wop::runtime {

struct OperatorStats : SwapStats {
  std::string name;
  OperatorState state = OperatorState::kStarting;
  uint64_t reconciles = 0;       // finished reconciles (any outcome)
  uint64_t reconcileErrors = 0;  // outcome ERROR or TERMINAL
  uint64_t apiCalls = 0;
  uint64_t httpCalls = 0;  // outbound HTTP calls started (wop_http_call)
  uint64_t restarts = 0;
  uint64_t logLinesDropped = 0;  // above the operator's log budget (runtime/log_budget.h)
  uint64_t queuedKeys = 0;
  uint64_t memoryBytes = 0;  // the live guest's memory (Wasm: linear memory)
  std::string lastError;
  std::string moduleDigest;  // "sha256:<hex>" of the module file it runs; empty if none
  bool swappable = false;    // swapping is on for it and its state can be captured
  bool swappedOut = false;
  bool cachesSynced = false;   // every informer it watches through has listed once
  double residentSeconds = 0;  // time with a live guest since the first start
};

// Who an operator's API requests act as: its ServiceAccount, impersonated, in its own flow of
// the host's API rate; a trusted operator (start() refuses any other without a ServiceAccount)
// acts as the host.
kube::RequestOptions operatorIdentity(const OperatorSpec& spec);

class Operator final : public hostcalls::OperatorServices,
                       public ControllerEvents,
                       public std::enable_shared_from_this<Operator> {
 public:
  Operator(OperatorEnvironment env, OperatorSpec spec, std::shared_ptr<GuestFactory> guests,
           OperatorLog log);
  ~Operator() override;

  const std::string& name() const { return spec_.name; }

  // The first start, on the caller's thread: instantiates and initialises the guest, resolves
  // the declared kinds, checks the ServiceAccount's permissions and subscribes to informers.
  // Returns an error only when the operator is refused (it will not be retried).
  common::Status start();
  void stop();
  // Before it is replaced: no new reconcile starts (answers to calls in flight are still
  // delivered, so the reconciles started can finish). For good.
  void stopTakingKeys() { draining_.store(true); }
  // The host failed while running it (its error boundary caught an exception): it is stopped
  // for good with reason as its last error, and its guest dropped.
  void abandon(const std::string& reason);

  // Worker entry point: delivers answers, starts due reconciles, restarts, swaps.
  // Returns true if more work is ready now.
  bool runSlice();

  OperatorStats stats() const;
  // Its figures for the metrics endpoint (atomics: read from any thread, no lock).
  std::shared_ptr<const OperatorMetrics> metrics() const { return metrics_; }

  // hostcalls::OperatorServices
  void log(int32_t level, std::string_view message) override;
  void log(int32_t level, std::string_view message, const LogFields& fields);
  std::string config() override { return spec_.configJson; }
  hostcalls::HostResult<int32_t> declare(std::string_view json) override;
  hostcalls::HostResult<std::string> cacheRead(std::string_view requestJson) override;
  hostcalls::HostResult<uint32_t> apiCall(std::string_view requestJson) override;
  hostcalls::HostResult<uint32_t> httpCall(std::string_view requestJson) override;
  hostcalls::HostResult<int32_t> reconcileDone(uint32_t reconcileId, int32_t outcome,
                                               int64_t requeueAfterMs,
                                               std::string_view message) override;
  hostcalls::HostResult<int32_t> emitKey(std::string_view key) override;
  void contractViolation(std::string what) override;

  // ControllerEvents (I/O and timer threads)
  void keyQueued(size_t controller, const std::string& key) override;
  void mapRequested(MapRequest request) override;
  void resynced() override { wake(); }
  void cachesSynced() override { wake(); }

 private:
  // A fresh instance; on the first start also the controllers. wait: block until they are
  // set up (the first start, on add()'s thread); else set up asynchronously (a retry on a
  // worker) and finish in a later slice.
  common::Status startInstance(bool wait);
  common::Status finishSetUp(common::Result<std::vector<ResolvedController>> resolved);
  void becameRunning();
  common::Status refuse(const common::Status& why);
  void fail(const std::string& reason);
  // Drops the guest and everything in flight on it; its reconciles are queued again.
  void dropInstance();
  // After an entry: true if it failed (and the operator was failed or restarted).
  bool entryFailed(const common::Status& status, const char* what);
  void runEntries();
  bool hasWork();
  void scheduleNextDue();
  void wake();
  void wakeAt(common::TimePoint when);
  kube::RequestOptions identity() const;
  // Tells the lifecycle listener, if any (never throws: a listener's failure is logged).
  void report(LifecycleEvent event);

  // Swapping (operator_swap.cc). Worker-only, like the guest.
  bool swapIn(bool prefetch);
  void considerSwapOut(bool idle);
  // The host's memory budget (runtime/memory_budget.h): this operator's resident bytes after a
  // slice; and the budget's request to swap out at the next idle slice (any thread).
  void reportToMemoryBudget(bool hadWork, bool busy);
  void requestEviction();
  void restartFromSnapshotFault(const std::string& reason);
  bool takeSnapshotFault();
  // Reports a swap-out that lasts OperatorSettings::swappedOutEventAfter, with one timer per
  // operator at most (a host swapping every second must not pile up 10-minute timers).
  void watchSwappedOut();
  void armSwappedOutCheck(common::TimePoint at);
  void checkSwappedOut();  // timer thread
  // Drops the change times stamped for an observer: no reconcile will consume them now.
  void forgetEnqueued();
  // Why a guest whose snapshot mapping faulted (snapshot/mapped_memory_guard.h) is restarted.
  static constexpr const char* kLostSnapshotMemory =
      "read memory its snapshot could not give back (a layer file shrank or could not be read)";

  OperatorEnvironment env_;
  const OperatorSpec spec_;
  const std::shared_ptr<GuestFactory> guests_;
  const OperatorLog log_;
  GuestSupervisor supervisor_;
  std::shared_ptr<ApiCalls> calls_;
  std::shared_ptr<HttpCalls> http_;           // answered through calls_
  std::shared_ptr<Controllers> controllers_;  // set once, at the first successful start
  std::unique_ptr<Swapper> swapper_;          // null: never swapped
  common::TimePoint pendingWake_{};           // the wake-up timer already set (worker only)
  common::TimePoint lastActive_{};            // the last slice with work (worker only)
  uint64_t lastResidentBytes_ = 0;  // memory and code share at the last swap-out (worker only)
  std::atomic<bool> evictionRequested_{false};  // by the memory budget

  std::atomic<bool> draining_{false};  // stopTakingKeys()
  // The host's gate for its shard and this operator's own: may a reconcile start now?
  bool takingKeys() const { return env_.takingKeys.load() && !draining_.load(); }
  mutable std::mutex mutex_;  // guards everything below
  std::deque<MapRequest> mapRequests_;
  std::optional<common::Result<std::vector<ResolvedController>>> setUp_;  // a retry's, arrived
  bool settingUp_ = false;
  struct Enqueued {
    common::TimePoint at;
    WakeKind kind;
  };
  std::unordered_map<std::string, Enqueued> enqueuedAt_;  // "c/key", only for an observer
  common::TimePoint sliceStartedAt_{};  // worker only: when the running slice began
  std::optional<std::pair<uint64_t, std::string>> snapshotFault_;  // instance, reason
  uint64_t instance_ = 0;  // counts instances: a late snapshot fault names the one it was for
  common::TimePoint residentSince_{};
  std::optional<common::TimePoint> swappedOutSince_;  // not yet reported as out for long
  bool swappedOutCheckArmed_ = false;
  OperatorStats stats_;
  // The reconcile the guest is inside (its lines carry key and ID); set by the worker.
  struct CurrentReconcile {
    uint32_t id;
    std::string key;
  };
  std::mutex reconcileLogMutex_;
  std::optional<CurrentReconcile> currentReconcile_;
  const std::shared_ptr<OperatorMetrics> metrics_ = std::make_shared<OperatorMetrics>();
  LogBudget logBudget_;
};

}  // namespace wop::runtime
