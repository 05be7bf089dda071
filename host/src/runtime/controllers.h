// An operator's controllers: what its guest declared, resolved against the API server, with a
// work queue each and a subscription to an informer per watch. It turns informer events into
// keys on queues (through the declared predicates and key mappings) or into requests to the
// guest's wop_map, and keeps the book of reconciles in flight.
//
// Thread-safety: handleEvent, the informers' callbacks and the resync timers run on other
// threads (the I/O thread, the timer thread) and touch only the queues, which are thread-safe,
// and the events sink. Everything else is called by the operator's worker, one at a time.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cache/label_selector.h"
#include "cache/shared_informers.h"
#include "common/clock.h"
#include "common/status.h"
#include "common/timers.h"
#include "kube/request.h"
#include "runtime/declaration.h"
#include "runtime/operator_metrics.h"
#include "runtime/predicates.h"
#include "runtime/work_queue.h"

namespace wop::runtime {

// A declared controller with the resource of each watch: [primary, owns..., watches...].
struct ResolvedController {
  ControllerDeclaration declaration;
  std::vector<kube::ResourceInfo> resources;
};

// An object of a function-mapped watch, for the guest's wop_map.
struct MapRequest {
  size_t controller;
  size_t watch;  // wop_map's watch_index: the position in the declaration's "watches"
  std::string objectJson;
};

// What the controllers tell their operator. Called from the I/O and timer threads.
class ControllerEvents {
 public:
  virtual ~ControllerEvents() = default;
  virtual void keyQueued(size_t controller, const std::string& key) = 0;  // by a change
  virtual void mapRequested(MapRequest request) = 0;
  virtual void resynced() = 0;      // a resync period passed: every key is queued again
  virtual void cachesSynced() = 0;  // every informer subscribed to has listed (once)
};

// A field index the operator declared, held on one watch's informer.
struct WatchIndex {
  std::string name;
  cache::IndexRegistration registration;
};

struct ControllerWatch {
  WatchDeclaration declaration;
  kube::ResourceInfo resource;
  cache::Subscription subscription;
  // declaration.labelSelector, parsed once; nullopt if it does not parse (it then covers no
  // cache read, as before).
  std::optional<cache::LabelSelector> selector;
  // Every index the operator declared on this watch's kind, in any of its controllers; added
  // to the informer's store with the subscription (worker only, read by cache reads).
  std::vector<WatchIndex> indexes;

  // The index called name on this watch's store, or null.
  const cache::IndexSpec* index(std::string_view name) const;
};

class Controllers : public std::enable_shared_from_this<Controllers> {
 public:
  // Fails, naming the controller, on an unknown predicate or a watch without its resource.
  // metrics (null: kept privately) gets the queues' and the reconciles' figures.
  static common::Result<std::shared_ptr<Controllers>> create(
      std::vector<ResolvedController> resolved, const common::Clock& clock, RateLimits limits,
      std::shared_ptr<OperatorMetrics> metrics = nullptr);

  // Subscribes every watch (events may start at once, on the I/O thread) and starts the
  // resync timers. events must outlive the subscriptions or expire (it is held weakly).
  void start(const std::function<cache::Subscription(const cache::InformerKey&, cache::Handlers)>&
                 subscribe,
             common::Timers& timers, std::weak_ptr<ControllerEvents> events);
  // Unsubscribes and shuts the queues down; later events are ignored.
  void stop();

  // An informer event of watch w of controller c (before or after may be null).
  void handleEvent(size_t c, size_t w, const cache::ObjectPtr& before,
                   const cache::ObjectPtr& after);
  // Keys the guest's wop_map emitted for a request of controller c.
  void addMappedKey(size_t c, const std::string& key);

  size_t size() const { return controllers_.size(); }
  const ControllerDeclaration& declaration(size_t c) const { return controllers_[c]->declaration; }
  bool synced() const { return synced_; }

  // ---- reconciles (worker only)
  struct Reconcile {
    uint32_t id;
    size_t controller;
    std::string key;
  };
  // The next key to reconcile, round robin over the controllers, within each one's
  // maxConcurrentReconciles; it is in flight until finished() or retryInFlight().
  std::optional<Reconcile> startNext();
  // A key may start now (within the concurrency limits).
  bool hasStartable() const;
  // A key is due, whatever the limits (the guest is wanted).
  bool hasReady() const;
  bool hasInFlight() const { return !inFlight_.empty(); }
  // The guest's wop_reconcile_done. Fails (with the key retried or not, as said) on an unknown
  // id, an unknown outcome or a negative delay.
  enum class Finish { kDone, kUnknownId, kUnknownOutcome, kNegativeDelay };
  struct Finished {
    Finish result;
    std::string key;  // the reconcile's key, when the id was known
  };
  Finished finish(uint32_t id, int32_t outcome, int64_t requeueAfterMs);
  // The instance running them is gone: every reconcile in flight is queued again.
  void retryInFlight();
  void requeueAll(size_t c);
  void requeueEverything();
  std::optional<common::TimePoint> nextDue() const;
  size_t queuedKeys() const;

  // Declared watches that can hold objects of this kind in ns, unselected ones first.
  std::vector<const ControllerWatch*> findWatches(const std::string& apiVersion,
                                                  const std::string& kind,
                                                  const std::string& ns) const;

 private:
  struct Controller {
    ControllerDeclaration declaration;
    std::unique_ptr<WorkQueue> queue;
    UpdateFilter filter;
    std::vector<ControllerWatch> watches;  // [0] is the primary resource, then owns, then watches
    int inFlight = 0;
  };
  Controllers() = default;
  void scheduleResync(size_t c);
  // Registers the operator's indexes of watch's kind on its informer.
  void addIndexes(ControllerWatch& watch);
  void recordFinish(common::TimePoint startedAt, int32_t outcome, int64_t requeueAfterMs);
  void watchSynced();

  std::vector<std::unique_ptr<Controller>> controllers_;
  const common::Clock* clock_ = nullptr;
  std::shared_ptr<OperatorMetrics> metrics_;
  common::Timers* timers_ = nullptr;
  std::weak_ptr<ControllerEvents> events_;
  std::atomic<bool> stopped_{false};
  std::atomic<size_t> unsyncedWatches_{0};
  std::atomic<bool> synced_{false};
  // Worker only:
  struct InFlight {
    Reconcile reconcile;
    common::TimePoint startedAt;
  };
  std::map<uint32_t, InFlight> inFlight_;
  uint32_t nextReconcileId_ = 1;
  size_t nextController_ = 0;
};

}  // namespace wop::runtime
