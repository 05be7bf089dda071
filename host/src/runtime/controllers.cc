#include "runtime/controllers.h"

#include <algorithm>

#include "common/backoff.h"
#include "runtime/key_mapping.h"
#include "wop_abi.h"

namespace wop::runtime {

using common::Status;
using common::StatusCode;

common::Result<std::shared_ptr<Controllers>> Controllers::create(
    std::vector<ResolvedController> resolved, const common::Clock& clock, RateLimits limits,
    std::shared_ptr<OperatorMetrics> metrics) {
  std::shared_ptr<Controllers> controllers(new Controllers());
  if (!metrics) metrics = std::make_shared<OperatorMetrics>();
  controllers->clock_ = &clock;
  controllers->metrics_ = metrics;
  for (auto& [declaration, resources] : resolved) {
    auto controller = std::make_unique<Controller>();
    auto filter = UpdateFilter::parse(std::vector<std::string_view>(
        declaration.primary.predicates.begin(), declaration.primary.predicates.end()));
    if (!filter) return filter.status().withContext("controller " + declaration.name);
    controller->filter = std::move(*filter);
    controller->queue = std::make_unique<WorkQueue>(
        clock, limits, std::shared_ptr<WorkQueueMetrics>(metrics, &metrics->queue));
    std::vector<WatchDeclaration> all = {declaration.primary};
    all.insert(all.end(), declaration.owns.begin(), declaration.owns.end());
    all.insert(all.end(), declaration.watches.begin(), declaration.watches.end());
    if (all.size() != resources.size()) {
      return Status(StatusCode::kInternal, "controller " + declaration.name + ": " +
                                               std::to_string(all.size()) + " watches, " +
                                               std::to_string(resources.size()) + " resources");
    }
    for (size_t w = 0; w < all.size(); ++w) {
      auto selector = cache::LabelSelector::parse(all[w].labelSelector);
      controller->watches.push_back(
          {std::move(all[w]),
           std::move(resources[w]),
           {},
           selector ? std::optional<cache::LabelSelector>(std::move(*selector)) : std::nullopt,
           {}});
    }
    controller->declaration = std::move(declaration);
    controllers->controllers_.push_back(std::move(controller));
  }
  return controllers;
}

const cache::IndexSpec* ControllerWatch::index(std::string_view name) const {
  for (const auto& index : indexes) {
    if (index.name == name && index.registration.spec()) return &*index.registration.spec();
  }
  return nullptr;
}

void Controllers::start(
    const std::function<cache::Subscription(const cache::InformerKey&, cache::Handlers)>& subscribe,
    common::Timers& timers, std::weak_ptr<ControllerEvents> events) {
  timers_ = &timers;
  events_ = std::move(events);
  size_t watches = 0;
  for (const auto& controller : controllers_) watches += controller->watches.size();
  unsyncedWatches_ = watches;
  if (watches == 0) watchSynced();
  std::weak_ptr<Controllers> weak = weak_from_this();
  for (size_t c = 0; c < controllers_.size(); ++c) {
    for (size_t w = 0; w < controllers_[c]->watches.size(); ++w) {
      auto& watch = controllers_[c]->watches[w];
      cache::InformerKey key{watch.resource, watch.declaration.ns, watch.declaration.labelSelector,
                             "", false};
      cache::Handlers handlers;
      handlers.onAdd = [weak, c, w](const cache::ObjectPtr& o) {
        if (auto self = weak.lock()) self->handleEvent(c, w, nullptr, o);
      };
      handlers.onUpdate = [weak, c, w](const cache::ObjectPtr& b, const cache::ObjectPtr& a) {
        if (auto self = weak.lock()) self->handleEvent(c, w, b, a);
      };
      handlers.onDelete = [weak, c, w](const cache::ObjectPtr& o) {
        if (auto self = weak.lock()) self->handleEvent(c, w, o, nullptr);
      };
      // Like controller-runtime's WaitForCacheSync: no reconcile may read a cache that is
      // still listing (it would see objects as missing), so the operator waits for this.
      handlers.onSynced = [weak] {
        if (auto self = weak.lock()) self->watchSynced();
      };
      watch.subscription = subscribe(key, std::move(handlers));
      addIndexes(watch);
    }
    scheduleResync(c);
  }
}

void Controllers::addIndexes(ControllerWatch& watch) {
  const auto& informer = watch.subscription.informer();
  if (!informer) return;
  // Operator-wide, as controller-runtime's field indexer: an index on a kind serves a read
  // from any watch of that kind, whichever controller declared it.
  for (const auto& controller : controllers_) {
    for (const auto& index : controller->declaration.indexes) {
      if (index.apiVersion != watch.declaration.apiVersion ||
          index.kind != watch.declaration.kind || watch.index(index.name) != nullptr) {
        continue;
      }
      watch.indexes.push_back({index.name, informer->addIndex(index.spec)});
    }
  }
}

void Controllers::watchSynced() {
  if (unsyncedWatches_.fetch_sub(1) != 1) return;
  synced_ = true;
  if (auto events = events_.lock()) events->cachesSynced();
}

void Controllers::stop() {
  stopped_ = true;
  for (auto& controller : controllers_) {
    for (auto& watch : controller->watches) {
      watch.indexes.clear();
      watch.subscription.reset();
    }
    controller->queue->shutDown();
  }
}

void Controllers::scheduleResync(size_t c) {
  const int seconds = std::min(controllers_[c]->declaration.resyncSeconds, WOP_MAX_RESYNC_SECONDS);
  if (seconds <= 0 || timers_ == nullptr) return;
  // controller-runtime's SyncPeriod: every key again, now and then, jittered by +-10% so
  // operators started together do not resync together.
  const auto period = std::chrono::milliseconds(
      static_cast<int64_t>(int64_t{seconds} * 1000 * (0.9 + 0.2 * common::randomUnit())));
  std::weak_ptr<Controllers> weak = weak_from_this();
  timers_->after(period, [weak, c] {
    auto self = weak.lock();
    if (!self || self->stopped_) return;
    self->requeueAll(c);
    if (auto events = self->events_.lock()) events->resynced();
    self->scheduleResync(c);
  });
}

void Controllers::handleEvent(size_t c, size_t w, const cache::ObjectPtr& before,
                              const cache::ObjectPtr& after) {
  if (stopped_) return;
  auto& controller = *controllers_[c];
  const auto& watch = controller.watches[w];
  const cache::ObjectPtr& object = after ? after : before;
  if (w == 0 && before && after && !controller.filter.passes(before, after)) return;
  if (w != 0 && before && after && !contentChanged(*before, *after)) return;
  auto events = events_.lock();
  std::optional<std::string> key;
  switch (watch.declaration.mapTo) {
    case MapTo::kSelf:
      key = object->key();
      break;
    case MapTo::kOwner: {
      // A namespaced object may have a cluster-scoped owner, whose key is its name alone.
      const bool ownerClusterScoped = !controller.watches[0].resource.namespaced;
      key = mapToKey(KeyMapping::owner(controller.declaration.primary.kind, ownerClusterScoped),
                     *object);
      break;
    }
    case MapTo::kFunction:
      // wop_map's watch_index counts the declared "watches" only (wop_abi.h): skip the
      // primary and the owned kinds that come first.
      if (events)
        events->mapRequested({c, w - 1 - controller.declaration.owns.size(), object->json});
      return;
    case MapTo::kNone:
      return;
  }
  if (!key) return;
  controller.queue->add(*key);
  if (events) events->keyQueued(c, *key);
}

void Controllers::addMappedKey(size_t c, const std::string& key) {
  controllers_[c]->queue->add(key);
  if (auto events = events_.lock()) events->keyQueued(c, key);
}

std::optional<Controllers::Reconcile> Controllers::startNext() {
  for (size_t i = 0; i < controllers_.size(); ++i) {
    const size_t c = (nextController_ + i) % controllers_.size();
    auto& controller = *controllers_[c];
    if (controller.inFlight >= controller.declaration.maxConcurrentReconciles) continue;
    auto key = controller.queue->pop();
    if (!key) continue;
    nextController_ = c + 1;
    controller.inFlight++;
    Reconcile reconcile{nextReconcileId_++, c, std::move(*key)};
    inFlight_[reconcile.id] = {reconcile, clock_->now()};
    metrics_->activeReconciles.fetch_add(1, std::memory_order_relaxed);
    return reconcile;
  }
  return std::nullopt;
}

bool Controllers::hasStartable() const {
  for (const auto& controller : controllers_) {
    if (controller->inFlight < controller->declaration.maxConcurrentReconciles &&
        controller->queue->hasReady()) {
      return true;
    }
  }
  return false;
}

bool Controllers::hasReady() const {
  for (const auto& controller : controllers_) {
    if (controller->queue->hasReady()) return true;
  }
  return false;
}

Controllers::Finished Controllers::finish(uint32_t id, int32_t outcome, int64_t requeueAfterMs) {
  auto it = inFlight_.find(id);
  if (it == inFlight_.end()) return {Finish::kUnknownId, {}};
  if (outcome < WOP_RECONCILE_DONE || outcome > WOP_RECONCILE_TERMINAL) {
    return {Finish::kUnknownOutcome, it->second.reconcile.key};
  }
  Reconcile reconcile = std::move(it->second.reconcile);
  recordFinish(it->second.startedAt, outcome, requeueAfterMs);
  inFlight_.erase(it);
  auto& controller = *controllers_[reconcile.controller];
  controller.inFlight--;
  auto& queue = *controller.queue;
  const std::string& key = reconcile.key;
  queue.done(key);
  // A delay from the guest: a negative one is a broken request (it would requeue at once, past
  // the rate limiter), so the key is retried as after an error; a huge one is clamped, since
  // its conversion to the clock's nanoseconds would overflow into a negative delay.
  const bool negativeDelay = requeueAfterMs < 0;
  const auto requeueAfter =
      std::chrono::milliseconds(std::clamp<int64_t>(requeueAfterMs, 0, WOP_MAX_REQUEUE_AFTER_MS));
  switch (outcome) {
    case WOP_RECONCILE_DONE:
    case WOP_RECONCILE_TERMINAL:  // not retried: the key waits for a change, as after success
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
      if (requeueAfter.count() > 0) {
        queue.addAfter(key, requeueAfter);
      } else {
        queue.addRateLimited(key);
      }
      break;
  }
  return {negativeDelay ? Finish::kNegativeDelay : Finish::kDone, key};
}

void Controllers::recordFinish(common::TimePoint startedAt, int32_t outcome,
                               int64_t requeueAfterMs) {
  OperatorMetrics& m = *metrics_;
  m.activeReconciles.fetch_sub(1, std::memory_order_relaxed);
  m.reconcileSeconds.observe(std::chrono::duration<double>(clock_->now() - startedAt).count());
  // controller-runtime's result label: an error (a terminal one too, also counted apart), else
  // requeue_after when a delay was asked, requeue when a requeue without one was, else success.
  if (outcome == WOP_RECONCILE_ERROR || outcome == WOP_RECONCILE_TERMINAL) {
    m.reconcileError.fetch_add(1, std::memory_order_relaxed);
    if (outcome == WOP_RECONCILE_TERMINAL)
      m.reconcileTerminalError.fetch_add(1, std::memory_order_relaxed);
  } else if (outcome == WOP_RECONCILE_REQUEUE_AFTER && requeueAfterMs > 0) {
    m.reconcileRequeueAfter.fetch_add(1, std::memory_order_relaxed);
  } else if (outcome == WOP_RECONCILE_REQUEUE_AFTER) {
    m.reconcileRequeue.fetch_add(1, std::memory_order_relaxed);
  } else {
    m.reconcileSuccess.fetch_add(1, std::memory_order_relaxed);
  }
}

void Controllers::retryInFlight() {
  // The instance trapped or was dropped under them: each counts as an error, as a recovered
  // panic does in controller-runtime.
  for (auto& [id, entry] : inFlight_) {
    recordFinish(entry.startedAt, WOP_RECONCILE_ERROR, 0);
    const Reconcile& reconcile = entry.reconcile;
    auto& controller = *controllers_[reconcile.controller];
    controller.queue->done(reconcile.key);
    controller.queue->add(reconcile.key);
    controller.inFlight--;
  }
  inFlight_.clear();
}

void Controllers::requeueAll(size_t c) {
  const auto& primary = controllers_[c]->watches[0].subscription;
  for (const auto& object : primary.list()) controllers_[c]->queue->add(object->key());
}

void Controllers::requeueEverything() {
  for (size_t c = 0; c < controllers_.size(); ++c) requeueAll(c);
}

std::optional<common::TimePoint> Controllers::nextDue() const {
  std::optional<common::TimePoint> due;
  for (const auto& controller : controllers_) {
    auto next = controller->queue->nextDue();
    if (next && (!due || *next < *due)) due = *next;
  }
  return due;
}

size_t Controllers::queuedKeys() const {
  size_t keys = 0;
  for (const auto& controller : controllers_) keys += controller->queue->readyCount();
  return keys;
}

std::vector<const ControllerWatch*> Controllers::findWatches(const std::string& apiVersion,
                                                             const std::string& kind,
                                                             const std::string& ns) const {
  // Unselected watches first: they hold everything of the kind.
  std::vector<const ControllerWatch*> unselected, selected;
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

}  // namespace wop::runtime
