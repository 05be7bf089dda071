// One operator: its module instance, the controllers it declared, their work queues and
// informer subscriptions, and its API calls in flight. The only place its guest is entered is
// runSlice(), which the host's workers call for one operator at a time.
//
// Failure model: a trap, a timeout or a broken ABI contract drops the instance and restarts
// the operator on a fresh one after an exponential backoff; since reconciles are
// level-triggered, every key of its controllers is queued again, so nothing is lost. The
// other operators never notice.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/shared_informers.h"
#include "common/backoff.h"
#include "hostcalls/operator_services.h"
#include "kube/client.h"
#include "runtime/declaration.h"
#include "runtime/key_mapping.h"
#include "runtime/log_budget.h"
#include "runtime/operator_guest.h"
#include "runtime/operator_spec.h"
#include "runtime/predicates.h"
#include "runtime/wake_predictor.h"
#include "runtime/work_queue.h"
#include "snapshot/operator_snapshot.h"

namespace wop::runtime {

class OperatorHost;

enum class OperatorState { kStarting, kRunning, kBackoff, kRefused, kStopped };

// How a change found its operator: resident, swapped out (restored on the way to the reconcile),
// or resident because a prediction restored it ahead of the change.
enum class WakeKind { kResident, kSwapped, kPrefetched };
const char* operatorStateName(OperatorState state);

struct OperatorStats {
  std::string name;
  OperatorState state = OperatorState::kStarting;
  uint64_t reconciles = 0;       // finished reconciles (any outcome)
  uint64_t reconcileErrors = 0;  // outcome ERROR
  uint64_t apiCalls = 0;
  uint64_t restarts = 0;
  uint64_t logLinesDropped = 0;  // above the operator's log budget (runtime/log_budget.h)
  uint64_t queuedKeys = 0;
  uint64_t memoryBytes = 0;  // the live guest's memory (Wasm: linear memory)
  std::string lastError;
  // Swapping (operator_swap.cc)
  bool swappable = false;  // swapping is on for it and its state can be captured
  bool swappedOut = false;
  uint64_t swapOuts = 0;
  uint64_t restores = 0;  // of which prefetches: restored ahead of a predicted change
  uint64_t prefetches = 0;
  uint64_t snapshotFaults = 0;  // unusable snapshots: restarted fresh instead
  uint64_t snapshotBytes = 0;   // data written by the last swap-out
  uint64_t wakesResident = 0;   // changes that found the guest resident
  uint64_t wakesSwapped = 0;    // changes that had to restore it
  double residentSeconds = 0;   // time with a live guest since the first start
  double lastRestoreMs = 0;
  double lastSwapOutMs = 0;
};

class Operator final : public hostcalls::OperatorServices,
                       public std::enable_shared_from_this<Operator> {
 public:
  Operator(OperatorHost& host, OperatorSpec spec, std::shared_ptr<GuestFactory> guests);
  ~Operator() override;

  const std::string& name() const { return spec_.name; }

  // Instantiates and initialises the guest; the first successful start also resolves the
  // declared kinds, checks the ServiceAccount's permissions and subscribes to informers.
  // Returns an error only when the operator is refused (it will not be retried).
  common::Status start();
  void stop();

  // Worker entry point: delivers completions, starts due reconciles, handles restarts.
  // Returns true if more work is ready now.
  bool runSlice();

  OperatorStats stats() const;

  // hostcalls::OperatorServices
  void log(int32_t level, std::string_view message) override;
  std::string config() override { return spec_.configJson; }
  hostcalls::HostResult<int32_t> declare(std::string_view declarationJson) override;
  hostcalls::HostResult<std::string> cacheRead(std::string_view requestJson) override;
  hostcalls::HostResult<uint32_t> apiCall(std::string_view requestJson) override;
  hostcalls::HostResult<int32_t> reconcileDone(uint32_t reconcileId, int32_t outcome,
                                               int64_t requeueAfterMs,
                                               std::string_view message) override;
  hostcalls::HostResult<int32_t> emitKey(std::string_view key) override;
  void contractViolation(std::string what) override;

 private:
  struct Watch {
    WatchDeclaration declaration;
    kube::ResourceInfo resource;
    cache::Subscription subscription;
  };
  struct Controller {
    ControllerDeclaration declaration;
    std::unique_ptr<WorkQueue> queue;
    UpdateFilter filter;
    std::vector<Watch> watches;  // [0] is the primary resource, then owns, then watches
    int inFlight = 0;
  };
  struct Completion {
    uint64_t generation;
    uint32_t token;
    int32_t status;
    std::string body;
  };
  struct MapRequest {
    size_t controller;
    size_t watch;  // wop_map's watch_index: the position in the declaration's "watches"
    std::string objectJson;
  };
  struct InFlight {
    size_t controller;
    std::string key;
  };

  // neverInstantiable: set when the guest could not be made for a reason no retry changes.
  common::Status instantiate(bool& neverInstantiable);
  // Stops for good, with why as the last error; returns why.
  common::Status refuse(const common::Status& why);
  common::Status setUpControllers(std::vector<ControllerDeclaration> declarations);
  common::Status checkPermissions(const Watch& watch);
  void onEvent(size_t controller, size_t watch, const cache::ObjectPtr& before,
               const cache::ObjectPtr& after);
  void enqueue(size_t controller, const std::string& key);
  void requeueAll(size_t controller);
  void requeueEverything();
  void scheduleResync(size_t controller);
  bool deliverCompletion(Completion completion);
  // An API call's request, sent as the operator; its answer comes back through complete().
  void sendCall(uint32_t token, uint64_t generation, kube::HttpRequest http, size_t requestBytes);
  // Queues the answer of call token (any thread) and releases its request's bytes.
  void complete(uint32_t token, uint64_t generation, size_t requestBytes,
                kube::ApiResult<kube::HttpResponse> result);
  // Bytes the host holds for this operator (limits::kMaxHeldBytesPerOperator); false if over.
  bool reserveHeldBytes(size_t bytes);
  void releaseHeldBytes(size_t bytes);
  bool deliverMapRequest(MapRequest request);
  bool startReconcile(size_t controller, const std::string& key);
  bool entryFailed(const common::Status& status, const char* what);
  void fail(const std::string& reason);
  // Drops the guest and everything in flight on it; its reconciles are queued again.
  void dropInstance();
  void scheduleNextDue();
  // True once every informer the operator subscribed to has listed; until then no reconcile starts.
  bool cachesSynced();
  // Declared watches that can hold objects of this kind in ns, unselected ones first.
  std::vector<const Watch*> findWatches(const std::string& apiVersion, const std::string& kind,
                                        const std::string& ns) const;
  kube::RequestOptions identity() const;

  // Swapping (operator_swap.cc). Worker-only, like the guest.
  void setUpSwapping();
  bool wantsGuest();
  bool prefetchDue(std::chrono::steady_clock::time_point now);
  void armPrefetch();
  bool restore(bool prefetch);
  void considerSwapOut(bool idle);
  void swapOut();
  void restartFromSnapshotFault(const std::string& reason);
  // Why a guest whose snapshot mapping faulted (snapshot/mapped_memory_guard.h) is restarted.
  static constexpr const char* kLostSnapshotMemory =
      "read memory its snapshot could not give back (a layer file shrank or could not be read)";
  bool takeSnapshotFault();
  void recordWake(std::chrono::steady_clock::time_point now);

  OperatorHost& host_;
  const OperatorSpec spec_;
  const std::shared_ptr<GuestFactory> guests_;

  // Worker-only state (one worker at a time, or start() before the operator is scheduled):
  std::unique_ptr<OperatorGuest> guest_;
  std::vector<ControllerDeclaration> declaring_;  // collected during wop_init
  bool initializing_ = false;
  bool mapping_ = false;
  std::vector<std::string> mappedKeys_;
  std::optional<std::string> violation_;
  std::map<uint32_t, InFlight> reconciles_;  // by reconcile id
  uint32_t nextReconcileId_ = 1;
  size_t nextController_ = 0;  // round robin within the operator
  common::RestartBackoff restartBackoff_;
  bool cachesSynced_ = false;
  std::chrono::steady_clock::time_point restartAt_;
  std::chrono::steady_clock::time_point healthySince_;
  std::chrono::steady_clock::time_point pendingWake_;     // the wake-up timer already set
  std::unique_ptr<snapshot::OperatorSnapshot> snapshot_;  // null: never swapped
  std::chrono::milliseconds idleAfter_{0};
  bool predict_ = false;
  bool restoredFromChain_ = false;  // the live guest's memory is the snapshot chain's mapping
  std::atomic<bool> prefetched_{
      false};  // restored ahead of a prediction, no change since (read by enqueue)
  std::optional<std::chrono::steady_clock::time_point> idleSince_;
  std::chrono::steady_clock::time_point swapRetryAt_;  // after a failed swap-out
  std::chrono::steady_clock::time_point swapCheckAt_;  // the swap-out check timer already set
  std::atomic<bool> swappedOut_{false};

  // Shared with the I/O thread:
  std::vector<std::unique_ptr<Controller>> controllers_;  // fixed after the first start
  std::atomic<uint64_t> generation_{0};  // instance generation; stale completions are dropped
  std::atomic<uint32_t> nextToken_{1};
  std::atomic<int> pendingCalls_{0};
  std::atomic<size_t> heldBytes_{0};  // request bodies in flight + answers queued
  std::atomic<OperatorState> state_{OperatorState::kStarting};

  mutable std::mutex mutex_;  // guards everything below
  std::deque<Completion> completions_;
  std::deque<MapRequest> mapRequests_;
  struct Enqueued {
    std::chrono::steady_clock::time_point at;
    WakeKind kind;
  };
  std::unordered_map<std::string, Enqueued> enqueuedAt_;  // "c/key"
  WakePredictor predictor_;
  std::chrono::steady_clock::time_point residentSince_;
  std::optional<std::pair<uint64_t, std::string>> snapshotFault_;  // generation, reason
  OperatorStats stats_;
  LogBudget logBudget_{common::SystemClock::instance()};
};

}  // namespace wop::runtime
