#include "runtime/operator.h"

#include <algorithm>
#include <future>

#include "runtime/memory_budget.h"
#include "wop_abi.h"

namespace wop::runtime {
namespace {

using common::Status;
using common::StatusCode;

// Worker time a slice may use before the worker goes back to the run queue (fairness: the
// host charges it to the operator). An entry in progress is never cut short.
constexpr auto kSliceQuantum = std::chrono::milliseconds(5);

}  // namespace

Operator::Operator(OperatorEnvironment env, OperatorSpec spec, std::shared_ptr<GuestFactory> guests,
                   OperatorLog log)
    : env_(std::move(env)),
      spec_(std::move(spec)),
      guests_(std::move(guests)),
      log_(std::move(log)),
      supervisor_(env_.clock, env_.settings.restartBackoffBase, env_.settings.restartBackoffMax),
      logBudget_(env_.clock) {
  stats_.name = spec_.name;
  stats_.moduleDigest = guests_->sourceDigest();
}

Operator::~Operator() = default;

kube::RequestOptions operatorIdentity(const OperatorSpec& spec) {
  if (spec.serviceAccountName.empty()) return {.flow = spec.name};
  const std::string& ns = spec.serviceAccountNamespace;
  return {.impersonateUser = "system:serviceaccount:" + ns + ":" + spec.serviceAccountName,
          .impersonateGroups = {"system:serviceaccounts", "system:serviceaccounts:" + ns,
                                "system:authenticated"},
          .flow = spec.name};
}

kube::RequestOptions Operator::identity() const { return operatorIdentity(spec_); }

void Operator::wake() { env_.scheduler.schedule(shared_from_this()); }

void Operator::report(LifecycleEvent event) {
  event.operatorName = spec_.name;
  if (auto failed = tellListener(env_.lifecycle, event); !failed.empty()) log(WOP_LOG_WARN, failed);
}

void Operator::wakeAt(common::TimePoint when) {
  std::weak_ptr<Operator> weak = weak_from_this();
  env_.timers.at(when, [weak] {
    if (auto self = weak.lock()) self->wake();
  });
}

// ------------------------------------------------------------------------------ life cycle

common::Status Operator::start() {
  // Fails closed: only an operator marked trusted may act with the host's own identity.
  if (spec_.serviceAccountName.empty() && !spec_.trusted) {
    return Status(StatusCode::kFailedPrecondition,
                  "no ServiceAccount and not trusted: refused (name a ServiceAccount, or set "
                  "trusted to run as the host)");
  }
  std::weak_ptr<Operator> weak = weak_from_this();
  calls_ = std::make_shared<ApiCalls>(env_.client, spec_.name, identity(), [weak] {
    if (auto self = weak.lock()) self->wake();
  });
  auto allowed = outbound::AllowedHosts::parse(
      spec_.allowedHosts, env_.outbound != nullptr && env_.outbound->allowHttp());
  if (!allowed) return refuse(allowed.status().withContext("spec."));
  http_ = std::make_shared<HttpCalls>(env_.outbound, std::move(*allowed), calls_,
                                      [weak](int32_t level, std::string message) {
                                        if (auto self = weak.lock()) self->log(level, message);
                                      });
  const bool wanted =
      spec_.swap.value_or(env_.settings.swapEnabled) && !env_.settings.snapshotDirectory.empty();
  if (wanted) {
    if (auto capturable = guests_->capturable(); !capturable.isOk()) {
      log(WOP_LOG_INFO, "never swapped out: " + capturable.message());
    } else {
      // A folder of this instance's own: an upgrade's new version (same name) starts while the
      // old one may still be dropping its snapshot.
      static std::atomic<uint64_t> incarnations{0};
      const std::string folder =
          env_.settings.snapshotDirectory + "/" + spec_.name + "." + std::to_string(++incarnations);
      swapper_ =
          std::make_unique<Swapper>(env_.clock, folder, guests_->identity(),
                                    spec_.swapIdleAfter.value_or(env_.settings.swapIdleAfter),
                                    env_.settings.swapPredict, env_.settings.swapSettleAfter);
      if (env_.memoryBudget) {
        std::weak_ptr<Operator> weak = weak_from_this();
        env_.memoryBudget->enroll(this, [weak] {
          if (auto self = weak.lock()) self->requestEviction();
        });
      }
      std::lock_guard lock(mutex_);
      stats_.swappable = true;
    }
  }
  return startInstance(/*wait=*/true);
}

common::Status Operator::startInstance(bool wait) {
  supervisor_.setState(OperatorState::kStarting);
  instance_++;
  if (swapper_) swapper_->freshInstance();
  bool neverInstantiable = false;
  auto status = supervisor_.instantiate(*guests_, *this, neverInstantiable);
  if (!status.isOk()) {
    if (neverInstantiable) return refuse(status);
    fail("start failed: " + status.message());
    return Status::ok();  // not a refusal: retried with backoff
  }
  auto declared = supervisor_.takeDeclarations();
  if (controllers_) {
    if (declared.size() != controllers_->size()) {
      fail("declared " + std::to_string(declared.size()) + " controllers after a restart, " +
           std::to_string(controllers_->size()) + " before");
      return Status::ok();
    }
    controllers_->requeueEverything();  // level-triggered: what happened meanwhile is looked at
    becameRunning();
    report({.change = LifecycleChange::kRestarted});
    return Status::ok();
  }
  SetupIdentity setupIdentity{identity(),
                              spec_.serviceAccountNamespace + "/" + spec_.serviceAccountName};
  if (wait) {
    // add()'s thread may wait; the answer comes on the I/O thread.
    std::promise<common::Result<std::vector<ResolvedController>>> promise;
    auto future = promise.get_future();
    resolveControllers(env_.client, std::move(declared), std::move(setupIdentity),
                       env_.settings.checkPermissions,
                       [&promise](auto resolved) { promise.set_value(std::move(resolved)); });
    return finishSetUp(future.get());
  }
  // A retried first start runs on a worker, which must not wait on the API server: the setup
  // continues on the I/O thread and a later slice finishes it.
  {
    std::lock_guard lock(mutex_);
    settingUp_ = true;
  }
  std::weak_ptr<Operator> weak = weak_from_this();
  resolveControllers(env_.client, std::move(declared), std::move(setupIdentity),
                     env_.settings.checkPermissions, [weak](auto resolved) {
                       auto self = weak.lock();
                       if (!self) return;
                       {
                         std::lock_guard lock(self->mutex_);
                         self->setUp_ = std::move(resolved);
                       }
                       self->wake();
                     });
  return Status::ok();
}

common::Status Operator::finishSetUp(common::Result<std::vector<ResolvedController>> resolved) {
  if (!resolved) return refuse(resolved.status());
  auto controllers =
      Controllers::create(std::move(*resolved), env_.clock, env_.settings.queueLimits, metrics_);
  if (!controllers) return refuse(controllers.status());
  controllers_ = std::move(*controllers);
  // Subscribed only once everything is validated; events may arrive at once (I/O thread).
  controllers_->start(env_.subscribe, env_.timers, weak_from_this());
  becameRunning();
  report({.change = LifecycleChange::kLoaded});
  return Status::ok();
}

void Operator::becameRunning() {
  const uint64_t memoryBytes = supervisor_.guest()->memoryBytes();
  {
    std::lock_guard lock(mutex_);
    residentSince_ = env_.clock.now();
  }
  log(WOP_LOG_INFO, "running (" + std::to_string(controllers_->size()) + " controller(s), memory " +
                        std::to_string(memoryBytes >> 10) + " KiB)");
  // Count in the memory budget from now, not from the first slice: 8 loaders add operators
  // faster than 2 workers reach them, and a budget that does not see them neither asks for
  // swap-outs nor holds the loads back (OperatorHost::addAll), so at idle 0 the start-up peak
  // of 1000 operators was 63-311 MiB against a steady 45.
  reportToMemoryBudget(false, /*busy=*/false);  // asked now, it goes at its first idle slice
  // Last: from here a worker may run a slice, enter the guest and swap it out. add()'s first
  // start runs on the loader's thread, so it must not touch the guest after this (it did, and
  // a host with idle 0 crashed in Wasmtime while loading 3000 operators).
  supervisor_.running();
}

common::Status Operator::refuse(const common::Status& why) {
  supervisor_.setState(OperatorState::kRefused);
  supervisor_.drop();
  {
    std::lock_guard lock(mutex_);
    stats_.lastError = why.message();
  }
  log(WOP_LOG_ERROR, "refused: " + why.message());
  report({.change = LifecycleChange::kRefused, .detail = why.message()});
  return why;
}

void Operator::stop() {
  supervisor_.setState(OperatorState::kStopped);
  if (env_.memoryBudget) env_.memoryBudget->forget(this);
  if (controllers_) controllers_->stop();
  forgetEnqueued();
}

void Operator::abandon(const std::string& reason) {
  dropInstance();
  (void)refuse(Status(StatusCode::kInternal, reason));
  if (controllers_) controllers_->stop();
  forgetEnqueued();
}

void Operator::forgetEnqueued() {
  std::lock_guard lock(mutex_);
  enqueuedAt_.clear();
}

void Operator::fail(const std::string& reason) {
  dropInstance();
  const auto delay = supervisor_.failed();
  metrics_->traps.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(mutex_);
    stats_.restarts++;
    stats_.lastError = reason;
  }
  log(WOP_LOG_ERROR, "failed: " + reason + "; restarting on a fresh instance in " +
                         std::to_string(delay.count()) + " ms");
  report({.change = LifecycleChange::kTrapped, .detail = reason});
  report({.change = LifecycleChange::kBackOff,
          .failures = supervisor_.consecutiveFailures(),
          .delay = delay});
  wakeAt(supervisor_.restartAt());
}

void Operator::dropInstance() {
  supervisor_.drop();
  if (calls_) calls_->dropAll();
  // Reconciles in flight on the dropped instance are retried on the next one.
  if (controllers_) controllers_->retryInFlight();
  std::lock_guard lock(mutex_);
  mapRequests_.clear();
}

bool Operator::entryFailed(const Status& status, const char* what) {
  std::string reason;
  switch (supervisor_.entryFault(status, what, reason)) {
    case GuestSupervisor::Fault::kNone:
      return false;
    case GuestSupervisor::Fault::kLostMemory:
      restartFromSnapshotFault(reason + " " + kLostSnapshotMemory);
      return true;
    case GuestSupervisor::Fault::kFailed:
      fail(reason);
      return true;
  }
  return false;
}

// ------------------------------------------------------------------------------ events

void Operator::keyQueued(size_t c, const std::string& key) {
  const WakeKind kind = swapper_ ? swapper_->recordWake() : WakeKind::kResident;
  if (env_.observer.wantsLatency()) {
    std::lock_guard lock(mutex_);
    enqueuedAt_.try_emplace(std::to_string(c) + "/" + key, Enqueued{env_.clock.now(), kind});
  }
  wake();
}

void Operator::mapRequested(MapRequest request) {
  {
    std::lock_guard lock(mutex_);
    mapRequests_.push_back(std::move(request));
  }
  wake();
}

// ------------------------------------------------------------------------------ slices

bool Operator::runSlice() {
  sliceStartedAt_ = env_.clock.now();
  auto state = supervisor_.state();
  if (state == OperatorState::kStarting) {
    // A retried first start waits for its setup; add()'s first start runs on another thread
    // and schedules the operator when done (the guest must not be entered twice at once).
    std::optional<common::Result<std::vector<ResolvedController>>> setUp;
    {
      std::lock_guard lock(mutex_);
      if (!settingUp_ || !setUp_) return false;
      setUp.swap(setUp_);
      settingUp_ = false;
    }
    (void)finishSetUp(std::move(*setUp));
  } else if (state == OperatorState::kBackoff) {
    if (!supervisor_.restartDue()) return false;
    (void)startInstance(/*wait=*/false);
  }
  if (supervisor_.state() != OperatorState::kRunning) return false;
  if (takeSnapshotFault() && supervisor_.state() != OperatorState::kRunning) return false;
  if (swapper_ && swapper_->swappedOut()) {
    const bool work = hasWork();
    if (!work && !swapper_->prefetchDue()) {
      scheduleNextDue();
      return false;
    }
    const auto now = env_.clock.now();
    if (!work && env_.memoryBudget &&
        !env_.memoryBudget->roomForPrefetch(this, lastResidentBytes_,
                                            swapper_->expectedWake().value_or(now), now)) {
      // Tried again later; or restored on the change itself, as without prediction.
      if (auto retry = swapper_->skipPrefetch()) wakeAt(*retry);
      scheduleNextDue();
      return false;
    }
    if (!swapIn(/*prefetch=*/!work)) return false;
  }
  // Only the swapper's idle clock needs to know (hasWork locks every queue: not per slice).
  const bool hadWork = swapper_ && hasWork();
  runEntries();
  scheduleNextDue();
  if (supervisor_.state() != OperatorState::kRunning) return false;
  {
    std::lock_guard lock(mutex_);
    stats_.memoryBytes = supervisor_.guest() ? supervisor_.guest()->memoryBytes() : 0;
  }
  const bool synced = controllers_->synced();
  bool more = calls_->hasAnswers() || (synced && takingKeys() && controllers_->hasStartable());
  {
    std::lock_guard lock(mutex_);
    more = more || (synced && !mapRequests_.empty());
  }
  if (hadWork) swapper_->busy();
  const bool idle = !more && !controllers_->hasInFlight() && calls_->pending() == 0 && synced;
  if (!more) considerSwapOut(idle);
  reportToMemoryBudget(hadWork, /*busy=*/!idle);
  return more;
}

void Operator::reportToMemoryBudget(bool hadWork, bool busy) {
  if (!env_.memoryBudget || !swapper_) return;
  const auto now = env_.clock.now();
  if (hadWork || lastActive_ == common::TimePoint{}) lastActive_ = now;
  // What swapping this operator out would free: its linear memory and its share of compiled
  // code (with distinct modules, code is most of a small operator's footprint).
  const bool resident = !swapper_->swappedOut() && supervisor_.guest();
  const uint64_t bytes =
      (resident ? supervisor_.guest()->memoryBytes() : 0) + guests_->residentCodeBytes();
  env_.memoryBudget->report(this, bytes,
                            {.lastActive = lastActive_,
                             .expectedWake = swapper_->expectedWake(),
                             .busy = busy,
                             .restoreBytes = resident ? 0 : lastResidentBytes_},
                            now);
}

void Operator::requestEviction() {
  evictionRequested_.store(true);
  wake();
}

void Operator::runEntries() {
  const auto sliceEnd = env_.clock.now() + kSliceQuantum;
  const bool mayReconcile = controllers_->synced() && takingKeys();
  const auto msSince = [this](common::TimePoint at) {
    return std::chrono::duration<double, std::milli>(env_.clock.now() - at).count();
  };
  while (supervisor_.state() == OperatorState::kRunning && env_.clock.now() < sliceEnd) {
    if (auto answer = calls_->take()) {
      entryFailed(supervisor_.guest()->complete(answer->token, answer->status, answer->body),
                  "wop_on_complete");
      continue;
    }
    // A mapper may read the cache (by a field index, typically), so it runs once the caches
    // are synced, as a reconcile does: before, its reads would fail and its event be lost.
    std::optional<MapRequest> request;
    if (controllers_->synced()) {
      std::lock_guard lock(mutex_);
      if (!mapRequests_.empty()) {
        request = std::move(mapRequests_.front());
        mapRequests_.pop_front();
      }
    }
    if (request) {
      auto keys = supervisor_.map(static_cast<uint32_t>(request->controller),
                                  static_cast<uint32_t>(request->watch), request->objectJson);
      if (entryFailed(keys ? Status::ok() : keys.status(), "wop_map")) continue;
      for (const auto& key : *keys) controllers_->addMappedKey(request->controller, key);
      continue;
    }
    if (!mayReconcile) break;
    auto reconcile = controllers_->startNext();
    if (!reconcile) break;
    std::optional<Enqueued> enqueued;
    if (env_.observer.wantsLatency()) {
      std::lock_guard lock(mutex_);
      auto it = enqueuedAt_.find(std::to_string(reconcile->controller) + "/" + reconcile->key);
      if (it != enqueuedAt_.end()) {
        enqueued = it->second;
        enqueuedAt_.erase(it);
      }
    }
    if (enqueued) {
      // A key that came while this slice ran waited for no worker.
      const common::Duration waited =
          std::max<common::Duration>(sliceStartedAt_ - enqueued->at, common::Duration::zero());
      env_.observer.changeToWorker(std::chrono::duration<double, std::milli>(waited).count(),
                                   enqueued->kind);
      env_.observer.changeToReconcile(msSince(enqueued->at), enqueued->kind);
    }
    {
      std::lock_guard lock(reconcileLogMutex_);
      currentReconcile_ = CurrentReconcile{reconcile->id, reconcile->key};
    }
    const auto entered = supervisor_.guest()->reconcile(
        reconcile->id, static_cast<uint32_t>(reconcile->controller), reconcile->key);
    {
      std::lock_guard lock(reconcileLogMutex_);
      currentReconcile_.reset();
    }
    if (enqueued) env_.observer.changeReconciled(msSince(enqueued->at), enqueued->kind);
    entryFailed(entered, "wop_reconcile");
  }
}

bool Operator::hasWork() {
  // Keys wait in their queues while the host takes none: they need no restore yet.
  if (calls_->hasAnswers() || (takingKeys() && controllers_->hasReady())) return true;
  std::lock_guard lock(mutex_);
  return controllers_->synced() && !mapRequests_.empty();
}

void Operator::scheduleNextDue() {
  if (!controllers_) return;
  auto due = controllers_->nextDue();
  if (!due) return;
  // One timer per wake-up: a slice runs after every event, and each would otherwise add a
  // timer for the same due time.
  if (pendingWake_ > env_.clock.now() && pendingWake_ <= *due) return;
  pendingWake_ = *due;
  wakeAt(*due);
}

}  // namespace wop::runtime
