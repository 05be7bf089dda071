#include "runtime/operator.h"

#include <nlohmann/json.hpp>

#include "common/backoff.h"
#include "common/json_depth.h"
#include "common/json_fields.h"
#include "common/limits.h"
#include "kube/api_names.h"
#include "kube/discovery.h"
#include "runtime/guest_api_request.h"
#include "runtime/operator_host.h"
#include "wop_abi.h"

namespace wop::runtime {
namespace {

using common::Status;
using common::StatusCode;
using hostcalls::HostCallError;
using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

// Worker time a slice may use before the worker goes back to the run queue (fairness: the
// host charges it to the operator). An entry in progress is never cut short.
constexpr auto kSliceQuantum = std::chrono::milliseconds(5);
// An operator that ran this long since its last restart has its restart backoff reset.
constexpr auto kHealthyAfter = std::chrono::seconds(60);
// How often a started operator checks whether its informers have synced.
constexpr auto kCacheSyncPoll = std::chrono::milliseconds(10);

HostCallError hostError(wop_status code, std::string message) { return {code, std::move(message)}; }

std::vector<std::string> selectorTerms(const std::string& selector) {
  std::vector<std::string> terms;
  size_t start = 0;
  while (start < selector.size()) {
    size_t end = selector.find(',', start);
    if (end == std::string::npos) end = selector.size();
    std::string term = selector.substr(start, end - start);
    term.erase(0, term.find_first_not_of(' '));
    term.erase(term.find_last_not_of(' ') + 1);
    if (!term.empty()) terms.push_back(term);
    start = end + 1;
  }
  return terms;
}

// Equality-based label selectors ("a=b,c==d,e!=f,g,!h") against cached labels.
bool matchesSelector(const cache::CachedObject& object, const std::string& selector, bool* valid) {
  *valid = true;
  for (const auto& term : selectorTerms(selector)) {
    if (term.find(" in ") != std::string::npos || term.find(" notin ") != std::string::npos) {
      *valid = false;
      return false;
    }
    if (term[0] == '!') {
      if (object.label(term.substr(1))) return false;
      continue;
    }
    const auto notEqual = term.find("!=");
    const auto equal = term.find('=');
    if (notEqual != std::string::npos) {
      const auto* value = object.label(term.substr(0, notEqual));
      if (value && *value == term.substr(notEqual + 2)) return false;
    } else if (equal != std::string::npos) {
      const size_t valueStart = term.compare(equal, 2, "==") == 0 ? equal + 2 : equal + 1;
      const auto* value = object.label(term.substr(0, equal));
      if (!value || *value != term.substr(valueStart)) return false;
    } else if (!object.label(term)) {
      return false;
    }
  }
  return true;
}

}  // namespace

const char* operatorStateName(OperatorState state) {
  switch (state) {
    case OperatorState::kStarting:
      return "Starting";
    case OperatorState::kRunning:
      return "Running";
    case OperatorState::kBackoff:
      return "Backoff";
    case OperatorState::kRefused:
      return "Refused";
    case OperatorState::kStopped:
      return "Stopped";
  }
  return "Unknown";
}

Operator::Operator(OperatorHost& host, OperatorSpec spec, std::shared_ptr<GuestFactory> guests)
    : host_(host),
      spec_(std::move(spec)),
      guests_(std::move(guests)),
      restartBackoff_(host.options().restartBackoffBase, host.options().restartBackoffMax,
                      kHealthyAfter) {
  stats_.name = spec_.name;
}

Operator::~Operator() {
  if (snapshot_) snapshot_->discard();
}

kube::RequestOptions Operator::identity() const {
  // Its own flow: it shares the host's API rate with the other operators, by turns.
  if (spec_.serviceAccountName.empty()) return {.flow = spec_.name};
  const std::string& ns = spec_.serviceAccountNamespace;
  return {.impersonateUser = "system:serviceaccount:" + ns + ":" + spec_.serviceAccountName,
          .impersonateGroups = {"system:serviceaccounts", "system:serviceaccounts:" + ns,
                                "system:authenticated"},
          .flow = spec_.name};
}

// ------------------------------------------------------------------------------ lifecycle

common::Status Operator::instantiate(bool& neverInstantiable) {
  violation_.reset();
  restoredFromChain_ = false;
  prefetched_ = false;
  swappedOut_ = false;
  auto guest = guests_->create(*this);
  if (!guest) {
    // GuestFactory::create: kFailedPrecondition is a module no retry will instantiate.
    neverInstantiable = guest.status().code() == StatusCode::kFailedPrecondition;
    return guest.status();
  }
  guest_ = std::move(*guest);
  declaring_.clear();
  initializing_ = true;
  auto init = guest_->init();
  initializing_ = false;
  if (!init.isOk()) return init.withContext("wop_init");
  if (violation_)
    return Status(StatusCode::kFailedPrecondition,
                  "wop_init broke the ABI contract: " + *violation_);
  if (declaring_.empty())
    return Status(StatusCode::kFailedPrecondition, "wop_init declared no controller");
  return Status::ok();
}

common::Status Operator::start() {
  state_ = OperatorState::kStarting;
  generation_++;
  bool neverInstantiable = false;
  auto status = instantiate(neverInstantiable);
  if (!status.isOk()) {
    if (neverInstantiable) return refuse(status);
    fail("start failed: " + status.message());
    return Status::ok();  // not a refusal: retried with backoff
  }
  if (controllers_.empty()) {
    setUpSwapping();  // before any subscription: events read its state from the I/O thread
    if (auto setUp = setUpControllers(std::move(declaring_)); !setUp.isOk()) {
      return refuse(setUp);
    }
  } else if (declaring_.size() != controllers_.size()) {
    fail("declared " + std::to_string(declaring_.size()) + " controllers after a restart, " +
         std::to_string(controllers_.size()) + " before");
    return Status::ok();
  } else {
    requeueEverything();  // level-triggered: whatever happened meanwhile is looked at again
  }
  healthySince_ = SteadyClock::now();
  restartBackoff_.started(healthySince_);
  idleSince_.reset();
  {
    std::lock_guard lock(mutex_);
    residentSince_ = healthySince_;
  }
  state_ = OperatorState::kRunning;
  log(WOP_LOG_INFO, "running (" + std::to_string(controllers_.size()) + " controller(s), memory " +
                        std::to_string(guest_->memoryBytes() >> 10) + " KiB)");
  return Status::ok();
}

common::Status Operator::refuse(const common::Status& why) {
  state_ = OperatorState::kRefused;
  guest_.reset();
  {
    std::lock_guard lock(mutex_);
    stats_.lastError = why.message();
  }
  log(WOP_LOG_ERROR, "refused: " + why.message());
  return why;
}

void Operator::stop() {
  state_ = OperatorState::kStopped;
  for (auto& controller : controllers_) {
    for (auto& watch : controller->watches) watch.subscription.reset();
    controller->queue->shutDown();
  }
}

common::Status Operator::setUpControllers(std::vector<ControllerDeclaration> declarations) {
  auto& discovery = host_.client().discovery();
  std::vector<std::unique_ptr<Controller>> controllers;
  for (auto& declaration : declarations) {
    auto controller = std::make_unique<Controller>();
    auto filter = UpdateFilter::parse(std::vector<std::string_view>(
        declaration.primary.predicates.begin(), declaration.primary.predicates.end()));
    if (!filter) return filter.status().withContext("controller " + declaration.name);
    controller->filter = std::move(*filter);
    controller->queue =
        std::make_unique<WorkQueue>(common::SystemClock::instance(), host_.options().queueLimits);
    std::vector<WatchDeclaration> all = {declaration.primary};
    all.insert(all.end(), declaration.owns.begin(), declaration.owns.end());
    all.insert(all.end(), declaration.watches.begin(), declaration.watches.end());
    for (auto& watchDeclaration : all) {
      auto resource = discovery.forKind(watchDeclaration.apiVersion, watchDeclaration.kind);
      if (!resource) {
        return Status(StatusCode::kFailedPrecondition,
                      "controller " + declaration.name + ": " + watchDeclaration.apiVersion + " " +
                          watchDeclaration.kind + ": " + resource.error().toString());
      }
      Watch watch{watchDeclaration, *resource, {}};
      if (host_.options().checkPermissions) {
        if (auto allowed = checkPermissions(watch); !allowed.isOk()) {
          return allowed.withContext("controller " + declaration.name);
        }
      }
      controller->watches.push_back(std::move(watch));
    }
    controller->declaration = std::move(declaration);
    controllers.push_back(std::move(controller));
  }
  controllers_ = std::move(controllers);
  // Subscribe only once everything is validated; events may arrive at once (I/O thread).
  std::weak_ptr<Operator> weak = weak_from_this();
  for (size_t c = 0; c < controllers_.size(); ++c) {
    for (size_t w = 0; w < controllers_[c]->watches.size(); ++w) {
      auto& watch = controllers_[c]->watches[w];
      cache::InformerKey key{watch.resource, watch.declaration.ns, watch.declaration.labelSelector,
                             "", false};
      cache::Handlers handlers{[weak, c, w](const cache::ObjectPtr& o) {
                                 if (auto self = weak.lock()) self->onEvent(c, w, nullptr, o);
                               },
                               [weak, c, w](const cache::ObjectPtr& b, const cache::ObjectPtr& a) {
                                 if (auto self = weak.lock()) self->onEvent(c, w, b, a);
                               },
                               [weak, c, w](const cache::ObjectPtr& o) {
                                 if (auto self = weak.lock()) self->onEvent(c, w, o, nullptr);
                               }};
      watch.subscription = host_.informers().subscribe(key, std::move(handlers));
    }
    scheduleResync(c);
  }
  return Status::ok();
}

void Operator::scheduleResync(size_t c) {
  const int seconds = std::min(controllers_[c]->declaration.resyncSeconds, WOP_MAX_RESYNC_SECONDS);
  if (seconds <= 0) return;
  // controller-runtime's SyncPeriod: every key again, now and then, jittered by +-10% so
  // operators started together do not resync together.
  const auto period = std::chrono::milliseconds(
      static_cast<int64_t>(int64_t{seconds} * 1000 * (0.9 + 0.2 * common::randomUnit())));
  std::weak_ptr<Operator> weak = weak_from_this();
  host_.client().transport().schedule(period, [weak, c] {
    auto self = weak.lock();
    if (!self || self->state_ == OperatorState::kStopped) return;
    self->requeueAll(c);
    self->host_.schedule(self);
    self->scheduleResync(c);
  });
}

common::Status Operator::checkPermissions(const Watch& watch) {
  const auto id = identity();
  if (id.impersonateUser.empty()) return Status::ok();
  for (const char* verb : {"list", "watch"}) {
    Json review = {{"apiVersion", "authorization.k8s.io/v1"},
                   {"kind", "SubjectAccessReview"},
                   {"spec",
                    {{"user", id.impersonateUser},
                     {"groups", id.impersonateGroups},
                     {"resourceAttributes",
                      {{"namespace", watch.declaration.ns},
                       {"verb", verb},
                       {"group", watch.resource.gvr.group},
                       {"resource", watch.resource.gvr.resource}}}}}};
    kube::HttpRequest request = kube::createRequest(
        {{"authorization.k8s.io", "v1", "subjectaccessreviews"}, "SubjectAccessReview", false}, "",
        review.dump());
    auto response = host_.client().execute(std::move(request));
    if (!response) {
      return Status(StatusCode::kUnavailable,
                    "cannot check permissions: " + response.error().toString());
    }
    auto answer = Json::parse(response->body, nullptr, false);
    const bool allowed = answer.is_object() && answer.contains("status") &&
                         common::boolField(answer["status"], "allowed");
    if (!allowed) {
      const std::string where =
          watch.declaration.ns.empty() ? "cluster-wide" : "in namespace " + watch.declaration.ns;
      return Status(StatusCode::kFailedPrecondition,
                    "ServiceAccount " + spec_.serviceAccountNamespace + "/" +
                        spec_.serviceAccountName + " may not " + verb + " " +
                        watch.resource.gvr.resource + " " + where +
                        ", which the operator declared it watches; grant it with RBAC");
    }
  }
  return Status::ok();
}

void Operator::fail(const std::string& reason) {
  const auto delay = restartBackoff_.failed(SteadyClock::now(), common::randomUnit());
  dropInstance();
  {
    std::lock_guard lock(mutex_);
    stats_.restarts++;
    stats_.lastError = reason;
  }
  state_ = OperatorState::kBackoff;
  restartAt_ = SteadyClock::now() + delay;
  log(WOP_LOG_ERROR, "failed: " + reason + "; restarting on a fresh instance in " +
                         std::to_string(delay.count()) + " ms");
  host_.wakeAt(shared_from_this(), restartAt_);
}

void Operator::dropInstance() {
  guest_.reset();
  generation_++;
  pendingCalls_ = 0;
  // Reconciles in flight on the dropped instance are retried on the next one.
  for (auto& [id, inFlight] : reconciles_) {
    auto& controller = *controllers_[inFlight.controller];
    controller.queue->done(inFlight.key);
    controller.queue->add(inFlight.key);
    controller.inFlight--;
  }
  reconciles_.clear();
  std::lock_guard lock(mutex_);
  for (const auto& completion : completions_) releaseHeldBytes(completion.body.size());
  completions_.clear();
  mapRequests_.clear();
}

bool Operator::entryFailed(const Status& status, const char* what) {
  if (guest_ && guest_->memoryFaulted()) {
    // Whatever the entry did, it ran on memory that was partly lost: start afresh.
    restartFromSnapshotFault(std::string(what) + " " + kLostSnapshotMemory);
    return true;
  }
  if (!status.isOk()) {
    fail(std::string(what) + ": " + status.message());
    return true;
  }
  if (violation_) {
    fail(std::string(what) + " broke the ABI contract: " + *violation_);
    return true;
  }
  return false;
}

// ------------------------------------------------------------------------------ events

void Operator::onEvent(size_t c, size_t w, const cache::ObjectPtr& before,
                       const cache::ObjectPtr& after) {
  if (state_ == OperatorState::kStopped || state_ == OperatorState::kRefused) return;
  auto& controller = *controllers_[c];
  const auto& watch = controller.watches[w];
  const cache::ObjectPtr& object = after ? after : before;
  if (w == 0 && before && after && !controller.filter.passes(before, after)) return;
  if (!(w == 0) && before && after && !contentChanged(*before, *after)) return;
  switch (watch.declaration.mapTo) {
    case MapTo::kSelf:
      enqueue(c, object->key());
      break;
    case MapTo::kOwner:
      if (auto key = mapToKey(KeyMapping::owner(controller.declaration.primary.kind), *object))
        enqueue(c, *key);
      break;
    case MapTo::kFunction: {
      // wop_map's watch_index counts the declared "watches" only (wop_abi.h): skip the
      // primary and the owned kinds that come first in `controller.watches`.
      const size_t declaredIndex = w - 1 - controller.declaration.owns.size();
      std::lock_guard lock(mutex_);
      mapRequests_.push_back({c, declaredIndex, object->json});
      break;
    }
    case MapTo::kNone:
      return;
  }
  host_.schedule(shared_from_this());
}

void Operator::enqueue(size_t c, const std::string& key) {
  const auto now = SteadyClock::now();
  {
    std::lock_guard lock(mutex_);
    recordWake(now);
    const WakeKind kind = swappedOut_   ? WakeKind::kSwapped
                          : prefetched_ ? WakeKind::kPrefetched
                                        : WakeKind::kResident;
    enqueuedAt_.try_emplace(std::to_string(c) + "/" + key, Enqueued{now, kind});
  }
  controllers_[c]->queue->add(key);
}

void Operator::requeueAll(size_t c) {
  const auto& informer = controllers_[c]->watches[0].subscription.informer();
  if (!informer) return;
  for (const auto& object : informer->store().list()) controllers_[c]->queue->add(object->key());
}

void Operator::requeueEverything() {
  for (size_t c = 0; c < controllers_.size(); ++c) requeueAll(c);
}

// ------------------------------------------------------------------------------ slices

bool Operator::runSlice() {
  const auto state = state_.load();
  // Starting: start() is still running on another thread (add() runs the first start); it
  // schedules the operator when done, and the guest must not be entered twice at once.
  if (state == OperatorState::kStopped || state == OperatorState::kRefused ||
      state == OperatorState::kStarting) {
    return false;
  }
  if (state == OperatorState::kBackoff) {
    if (SteadyClock::now() < restartAt_) return false;
    (void)start();
    if (state_ != OperatorState::kRunning) return false;
  }
  if (takeSnapshotFault() && state_ != OperatorState::kRunning) return false;
  if (swappedOut_) {
    const bool work = wantsGuest();
    if (!work && !prefetchDue(SteadyClock::now())) {
      scheduleNextDue();
      return false;
    }
    if (!restore(/*prefetch=*/!work)) return false;
  }
  int entries = 0;
  const bool mayReconcile = cachesSynced();
  const auto sliceEnd = SteadyClock::now() + kSliceQuantum;
  while (state_ == OperatorState::kRunning && SteadyClock::now() < sliceEnd) {
    std::optional<Completion> completion;
    std::optional<MapRequest> mapRequest;
    {
      std::lock_guard lock(mutex_);
      if (!completions_.empty()) {
        completion = std::move(completions_.front());
        completions_.pop_front();
      } else if (!mapRequests_.empty()) {
        mapRequest = std::move(mapRequests_.front());
        mapRequests_.pop_front();
      }
    }
    if (completion) {
      if (deliverCompletion(std::move(*completion))) ++entries;
      continue;
    }
    if (mapRequest) {
      deliverMapRequest(std::move(*mapRequest));
      ++entries;
      continue;
    }
    if (!mayReconcile) break;
    // Start reconciles, round robin over this operator's controllers.
    bool started = false;
    for (size_t i = 0; i < controllers_.size() && !started; ++i) {
      const size_t c = (nextController_ + i) % controllers_.size();
      auto& controller = *controllers_[c];
      if (controller.inFlight >= controller.declaration.maxConcurrentReconciles) continue;
      auto key = controller.queue->pop();
      if (!key) continue;
      nextController_ = c + 1;
      startReconcile(c, *key);
      started = true;
      ++entries;
    }
    if (!started) break;
  }
  scheduleNextDue();
  if (state_ != OperatorState::kRunning) return false;
  const bool more = [&] {
    std::lock_guard lock(mutex_);
    stats_.memoryBytes = guest_ ? guest_->memoryBytes() : 0;
    if (!completions_.empty() || !mapRequests_.empty()) return true;
    for (const auto& controller : controllers_) {
      if (controller->inFlight < controller->declaration.maxConcurrentReconciles &&
          controller->queue->hasReady()) {
        return true;
      }
    }
    return false;
  }();
  if (entries > 0) idleSince_.reset();
  if (!more) considerSwapOut(reconciles_.empty() && pendingCalls_ == 0 && mayReconcile);
  return more;
}

bool Operator::cachesSynced() {
  if (cachesSynced_) return true;
  for (const auto& controller : controllers_) {
    for (const auto& watch : controller->watches) {
      const auto& informer = watch.subscription.informer();
      if (informer && !informer->hasSynced()) {
        // Like controller-runtime's WaitForCacheSync: a reconcile must not read a cache that
        // is still listing (it would see objects as missing). Look again shortly.
        host_.wakeAt(shared_from_this(), SteadyClock::now() + kCacheSyncPoll);
        return false;
      }
    }
  }
  cachesSynced_ = true;
  return true;
}

void Operator::scheduleNextDue() {
  std::optional<SteadyClock::time_point> due;
  for (const auto& controller : controllers_) {
    auto next = controller->queue->nextDue();
    if (next && (!due || *next < *due)) due = *next;
  }
  if (!due) return;
  // One timer per wake-up: a slice runs after every event, and each would otherwise add a
  // timer for the same due time.
  const auto now = SteadyClock::now();
  if (pendingWake_ > now && pendingWake_ <= *due) return;
  pendingWake_ = *due;
  host_.wakeAt(shared_from_this(), *due);
}

bool Operator::startReconcile(size_t c, const std::string& key) {
  auto& controller = *controllers_[c];
  const uint32_t id = nextReconcileId_++;
  reconciles_[id] = {c, key};
  controller.inFlight++;
  {
    std::lock_guard lock(mutex_);
    auto it = enqueuedAt_.find(std::to_string(c) + "/" + key);
    if (it != enqueuedAt_.end()) {
      host_.recordLatency(
          std::chrono::duration<double, std::milli>(SteadyClock::now() - it->second.at).count(),
          it->second.kind);
      enqueuedAt_.erase(it);
    }
  }
  return !entryFailed(guest_->reconcile(id, static_cast<uint32_t>(c), key), "wop_reconcile");
}

bool Operator::deliverCompletion(Completion completion) {
  releaseHeldBytes(completion.body.size());
  if (completion.generation != generation_) return false;  // for an instance that is gone
  pendingCalls_--;
  entryFailed(guest_->complete(completion.token, completion.status, completion.body),
              "wop_on_complete");
  return true;
}

bool Operator::deliverMapRequest(MapRequest request) {
  mapping_ = true;
  mappedKeys_.clear();
  auto status = guest_->map(static_cast<uint32_t>(request.controller),
                            static_cast<uint32_t>(request.watch), request.objectJson);
  mapping_ = false;
  if (entryFailed(status, "wop_map")) return false;
  for (const auto& key : mappedKeys_) enqueue(request.controller, key);
  return true;
}

// ------------------------------------------------------------------------------ host calls

void Operator::log(int32_t level, std::string_view message) {
  // Every line on the operator's behalf (its own, and the host's about it) comes from its
  // budget, so a flood slows only its own log.
  const auto verdict = logBudget_.admit(message.size());
  if (verdict.reportDropped > 0) {
    host_.log(spec_.name, WOP_LOG_WARN,
              std::to_string(verdict.reportDropped) +
                  " log line(s) dropped: the operator logs more than its budget of " +
                  std::to_string(static_cast<int>(limits::kOperatorLogLinesPerSecond)) +
                  " lines a second");
  }
  if (verdict.write) host_.log(spec_.name, level, std::string(message));
}

hostcalls::HostResult<int32_t> Operator::declare(std::string_view json) {
  if (!initializing_)
    return hostError(WOP_ERR_BAD_STATE, "wop_declare is only allowed during wop_init");
  if (declaring_.size() >= WOP_MAX_CONTROLLERS)
    return hostError(WOP_ERR_LIMIT, "too many controllers");
  auto declaration = parseDeclaration(json);
  if (!declaration) return hostError(WOP_ERR_INVALID_ARGUMENT, declaration.status().message());
  declaring_.push_back(std::move(*declaration));
  return static_cast<int32_t>(declaring_.size() - 1);
}

namespace {

// True if every object matching `requested` also matches `watched` (so the watch's store holds
// all of them): each term of the watch is a term of the request, or an existence term whose
// key the request pins to a value.
bool selectorImplies(const std::string& requested, const std::string& watched) {
  const auto asked = selectorTerms(requested);
  for (const auto& term : selectorTerms(watched)) {
    const bool implied = std::any_of(asked.begin(), asked.end(), [&](const std::string& a) {
      return a == term ||
             (term.find_first_of("=!") == std::string::npos && a.rfind(term + "=", 0) == 0);
    });
    if (!implied) return false;
  }
  return true;
}

}  // namespace

std::vector<const Operator::Watch*> Operator::findWatches(const std::string& apiVersion,
                                                          const std::string& kind,
                                                          const std::string& ns) const {
  // Unselected watches first: they hold everything of the kind.
  std::vector<const Watch*> unselected, selected;
  for (const auto& controller : controllers_) {
    for (const auto& watch : controller->watches) {
      const auto& d = watch.declaration;
      if (d.apiVersion != apiVersion || d.kind != kind || (!d.ns.empty() && d.ns != ns)) continue;
      (d.labelSelector.empty() ? unselected : selected).push_back(&watch);
    }
  }
  unselected.insert(unselected.end(), selected.begin(), selected.end());
  return unselected;
}

hostcalls::HostResult<std::string> Operator::cacheRead(std::string_view requestJson) {
  if (!common::jsonDepthWithin(requestJson, limits::kMaxGuestJsonDepth))
    return hostError(WOP_ERR_INVALID_ARGUMENT, "request nests too deep");
  auto request = Json::parse(requestJson, nullptr, false);
  if (!request.is_object())
    return hostError(WOP_ERR_INVALID_ARGUMENT, "request is not a JSON object");
  const std::string apiVersion = common::stringField(request, "apiVersion");
  const std::string kind = common::stringField(request, "kind");
  const std::string ns = common::stringField(request, "namespace");
  // Checked as for wop_api_call: these go into messages and store keys.
  for (const auto& status :
       {kube::checkApiVersion(apiVersion), kube::checkKind(kind), kube::checkNamespace(ns),
        kube::checkLabelSelector(common::stringField(request, "labelSelector")),
        request.contains("name") ? kube::checkObjectName(common::stringField(request, "name"))
                                 : Status::ok()}) {
    if (!status.isOk())
      return hostError(WOP_ERR_INVALID_ARGUMENT, "cache read: " + status.message());
  }
  const auto watches = findWatches(apiVersion, kind, ns);
  if (watches.empty()) {
    return hostError(WOP_ERR_FORBIDDEN,
                     apiVersion + " " + kind + (ns.empty() ? "" : " in " + ns) +
                         " is not declared by this operator, so it is not cached for it");
  }
  for (const auto* watch : watches) {
    const auto& informer = watch->subscription.informer();
    if (!informer || !informer->hasSynced())
      return hostError(WOP_ERR_UNAVAILABLE, "cache not synced yet");
  }
  if (request.contains("name")) {
    const std::string name = common::stringField(request, "name");
    for (const auto* watch : watches) {
      const std::string key = ns.empty() || !watch->resource.namespaced ? name : ns + "/" + name;
      if (auto object = watch->subscription.informer()->store().get(key)) return object->json;
    }
    return hostError(WOP_ERR_NOT_FOUND, "not found");
  }
  const std::string selector = common::stringField(request, "labelSelector");
  const Watch* source = nullptr;
  for (const auto* watch : watches) {
    if (selectorImplies(selector, watch->declaration.labelSelector)) {
      source = watch;
      break;
    }
  }
  if (source == nullptr) {
    return hostError(WOP_ERR_FORBIDDEN,
                     "no declared watch of " + kind + " covers the selector \"" + selector + "\"");
  }
  std::string out = "{\"items\":[";
  bool first = true;
  for (const auto& object : source->subscription.informer()->store().list(ns)) {
    bool valid = true;
    if (!selector.empty() && !matchesSelector(*object, selector, &valid)) {
      if (!valid)
        return hostError(WOP_ERR_INVALID_ARGUMENT,
                         "set-based selectors are not supported in cache reads");
      continue;
    }
    if (!first) out += ',';
    first = false;
    out += object->json;
  }
  out += "]}";
  return out;
}

namespace {

// The answer a guest gets for a call that failed without a response of its own: a metav1.Status,
// like the server's. Messages are valid UTF-8 already (kube/api_error.cc); replace anyway,
// since a throwing dump on the I/O thread would end the host.
std::string statusBody(const kube::ApiError& error) {
  return Json({{"kind", "Status"},
               {"apiVersion", "v1"},
               {"status", "Failure"},
               {"reason", kube::apiReasonName(error.reason)},
               {"message", error.message},
               {"code", error.httpStatus}})
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

bool Operator::reserveHeldBytes(size_t bytes) {
  size_t held = heldBytes_.load();
  do {
    if (bytes > limits::kMaxHeldBytesPerOperator - std::min(held, limits::kMaxHeldBytesPerOperator))
      return false;
  } while (!heldBytes_.compare_exchange_weak(held, held + bytes));
  return true;
}

void Operator::releaseHeldBytes(size_t bytes) {
  size_t held = heldBytes_.load();
  while (!heldBytes_.compare_exchange_weak(held, held - std::min(bytes, held))) {
  }
}

hostcalls::HostResult<uint32_t> Operator::apiCall(std::string_view requestJson) {
  // A call waiting for discovery counts as pending too: it is released only by its completion.
  if (pendingCalls_ >= static_cast<int>(WOP_MAX_PENDING_CALLS)) {
    return hostError(WOP_ERR_LIMIT,
                     "more than " + std::to_string(WOP_MAX_PENDING_CALLS) + " API calls in flight");
  }
  auto request = parseGuestApiRequest(requestJson);
  if (!request) return hostError(WOP_ERR_INVALID_ARGUMENT, request.status().message());
  std::optional<kube::ApiResult<kube::ResourceInfo>> resource;
  if (request->verb == "event") {
    resource = kube::ResourceInfo{{"", "v1", "events"}, "Event", true};
  } else {
    resource = host_.client().discovery().cachedKind(request->apiVersion, request->kind);
  }
  if (resource && !*resource) {
    const auto& error = (*resource).error();
    return hostError(
        error.reason == kube::ApiReason::kBadRequest ? WOP_ERR_INVALID_ARGUMENT : WOP_ERR_NOT_FOUND,
        error.toString());
  }
  std::optional<kube::HttpRequest> http;
  if (resource) {
    auto built = toHttpRequest(*request, **resource, spec_.name);
    if (!built) return hostError(WOP_ERR_INVALID_ARGUMENT, built.status().message());
    http = std::move(*built);
  }
  // The host holds the request body until the answer comes, then the answer until delivered.
  const size_t requestBytes = request->body.size();
  if (!reserveHeldBytes(requestBytes)) {
    return hostError(WOP_ERR_LIMIT, "the host already holds " + std::to_string(heldBytes_.load()) +
                                        " bytes for this operator's calls and answers (at most " +
                                        std::to_string(limits::kMaxHeldBytesPerOperator) + ")");
  }
  const uint32_t token = nextToken_++;
  const uint64_t generation = generation_;
  pendingCalls_++;
  {
    std::lock_guard lock(mutex_);
    stats_.apiCalls++;
  }
  if (http) {
    sendCall(token, generation, std::move(*http), requestBytes);
    return token;
  }
  // A discovery miss: the worker goes on; the call continues on the I/O thread once the
  // group/version is known (principle 3: waiting holds no thread).
  std::weak_ptr<Operator> weak = weak_from_this();
  // Copied first: the callback below takes the request.
  const std::string apiVersion = request->apiVersion, kind = request->kind;
  host_.client().discovery().forKindAsync(
      apiVersion, kind,
      [weak, token, generation, requestBytes,
       request = std::move(*request)](kube::ApiResult<kube::ResourceInfo> found) {
        auto self = weak.lock();
        if (!self) return;
        if (!found) {
          self->complete(token, generation, requestBytes, found.error());
          return;
        }
        auto built = toHttpRequest(request, *found, self->spec_.name);
        if (!built) {
          self->complete(
              token, generation, requestBytes,
              kube::ApiError{kube::ApiReason::kBadRequest, 400, built.status().message(), {}});
          return;
        }
        self->sendCall(token, generation, std::move(*built), requestBytes);
      });
  return token;
}

void Operator::sendCall(uint32_t token, uint64_t generation, kube::HttpRequest http,
                        size_t requestBytes) {
  std::weak_ptr<Operator> weak = weak_from_this();
  host_.client().executeAsync(
      std::move(http), identity(),
      [weak, token, generation, requestBytes](kube::ApiResult<kube::HttpResponse> result) {
        if (auto self = weak.lock())
          self->complete(token, generation, requestBytes, std::move(result));
      });
}

void Operator::complete(uint32_t token, uint64_t generation, size_t requestBytes,
                        kube::ApiResult<kube::HttpResponse> result) {
  releaseHeldBytes(requestBytes);
  if (generation != generation_) return;  // for an instance that is gone
  Completion completion{generation, token, 0, {}};
  if (result) {
    completion.status = result->status;
    completion.body = std::move(result->body);
  } else {
    const auto& error = result.error();
    completion.status = error.httpStatus != 0 ? error.httpStatus : WOP_ERR_UNAVAILABLE;
    completion.body = statusBody(error);
  }
  if (!reserveHeldBytes(completion.body.size())) {
    kube::ApiError over{kube::ApiReason::kRequestEntityTooLarge,
                        0,
                        "the answer of " + std::to_string(completion.body.size()) +
                            " bytes would make the host hold more than " +
                            std::to_string(limits::kMaxHeldBytesPerOperator) +
                            " bytes for this operator; it was dropped",
                        {}};
    completion.status = WOP_ERR_LIMIT;
    completion.body = statusBody(over);
    heldBytes_ += completion.body.size();  // small; counted so delivery can release it
  }
  {
    std::lock_guard lock(mutex_);
    completions_.push_back(std::move(completion));
  }
  host_.schedule(shared_from_this());
}

hostcalls::HostResult<int32_t> Operator::reconcileDone(uint32_t reconcileId, int32_t outcome,
                                                       int64_t requeueAfterMs,
                                                       std::string_view message) {
  auto it = reconciles_.find(reconcileId);
  if (it == reconciles_.end()) {
    return hostError(WOP_ERR_NOT_FOUND,
                     "no reconcile " + std::to_string(reconcileId) + " in flight");
  }
  if (outcome < WOP_RECONCILE_DONE || outcome > WOP_RECONCILE_ERROR) {
    return hostError(WOP_ERR_INVALID_ARGUMENT, "unknown outcome " + std::to_string(outcome));
  }
  auto [c, key] = it->second;
  reconciles_.erase(it);
  auto& controller = *controllers_[c];
  controller.inFlight--;
  auto& queue = *controller.queue;
  queue.done(key);
  // A delay from the guest: a negative one is a broken request (it would requeue at once, past
  // the rate limiter), so the key is retried as after an error; a huge one is clamped, since
  // its conversion to the clock's nanoseconds would overflow into a negative delay.
  const bool negativeDelay = requeueAfterMs < 0;
  const auto requeueAfter =
      std::chrono::milliseconds(std::clamp<int64_t>(requeueAfterMs, 0, WOP_MAX_REQUEUE_AFTER_MS));
  {
    std::lock_guard lock(mutex_);
    stats_.reconciles++;
    if (outcome == WOP_RECONCILE_ERROR) stats_.reconcileErrors++;
  }
  switch (outcome) {
    case WOP_RECONCILE_DONE:
      queue.forget(key);
      break;
    case WOP_RECONCILE_REQUEUE_AFTER:
      // As controller-runtime's Result{Requeue: true}: no delay means rate limited, never a
      // busy loop.
      if (negativeDelay || requeueAfter.count() == 0) {
        queue.addRateLimited(key);
      } else {
        queue.forget(key);
        queue.addAfter(key, requeueAfter);
      }
      break;
    case WOP_RECONCILE_ERROR:
      log(WOP_LOG_WARN, "reconcile of " + key + " failed: " + std::string(message));
      if (requeueAfter.count() > 0) {
        queue.addAfter(key, requeueAfter);
      } else {
        queue.addRateLimited(key);
      }
      break;
  }
  if (negativeDelay) {
    return hostError(WOP_ERR_INVALID_ARGUMENT, "requeue_after_ms " +
                                                   std::to_string(requeueAfterMs) +
                                                   " is negative; the key is retried with backoff");
  }
  return WOP_OK;
}

hostcalls::HostResult<int32_t> Operator::emitKey(std::string_view key) {
  if (!mapping_) return hostError(WOP_ERR_BAD_STATE, "wop_emit_key is only allowed inside wop_map");
  if (mappedKeys_.size() >= WOP_MAX_EMITTED_KEYS) return hostError(WOP_ERR_LIMIT, "too many keys");
  auto parsed = parseKey(key);
  if (!parsed) return hostError(WOP_ERR_INVALID_ARGUMENT, parsed.status().message());
  mappedKeys_.push_back(parsed->toString());
  return WOP_OK;
}

void Operator::contractViolation(std::string what) {
  if (!violation_) violation_ = std::move(what);
}

OperatorStats Operator::stats() const {
  std::lock_guard lock(mutex_);
  OperatorStats stats = stats_;
  stats.state = state_;
  stats.logLinesDropped = logBudget_.droppedTotal();
  if (!stats.swappedOut && state_ == OperatorState::kRunning) {
    stats.residentSeconds +=
        std::chrono::duration<double>(SteadyClock::now() - residentSince_).count();
  }
  for (const auto& controller : controllers_) stats.queuedKeys += controller->queue->readyCount();
  return stats;
}

}  // namespace wop::runtime
