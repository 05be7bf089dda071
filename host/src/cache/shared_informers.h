// Shared informers: one list+watch per InformerKey (resource, namespace, label selector,
// field selector, metadata-only) however many subscribers it has. Subscriptions are counted;
// when the last one goes, the informer stops and its watch closes.
//
// Cluster-wide sharing: once subscribers have asked for one resource (and selectors) in
// clusterWideAfter namespaces, and the host's identity may list and watch it cluster-wide (a
// SelfSubjectAccessReview, asked once per resource), later namespaced subscriptions share one
// cluster-wide informer instead of opening a watch each: the API server serves one watch
// instead of thousands (as controller-runtime's cache, which watches cluster-wide by default).
// Such a subscription is scoped to its namespace: its handlers hear of that namespace only
// and its reads (list, get, byIndex) see only it, so an operator sees what its own watch would
// have shown. The cost: the host caches the resource's objects of every namespace.
//
// Thread-safety: subscribe and Subscription destruction may happen on any thread.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cache/informer.h"

namespace wop::cache {

class SharedInformers;

// Holds one subscriber's handlers on one informer; unsubscribes when destroyed.
class Subscription {
 public:
  Subscription() = default;
  Subscription(Subscription&& other) noexcept { *this = std::move(other); }
  Subscription& operator=(Subscription&& other) noexcept;
  ~Subscription() { reset(); }

  void reset();
  explicit operator bool() const { return informer_ != nullptr; }
  // The shared informer (for its sync state, counters and indexes). Read objects through
  // list/get/byIndex below, which keep to this subscription's scope.
  const std::shared_ptr<Informer>& informer() const { return informer_; }
  // The namespace a cluster-wide informer is narrowed to for this subscriber; "" when the
  // informer is the subscriber's own key.
  const std::string& scope() const { return scope_; }

  // The store's objects this subscriber may see: of namespace ns ("" = all it may see).
  std::vector<ObjectPtr> list(const std::string& ns = "") const;
  ObjectPtr get(const std::string& key) const;
  // Store::byIndex within ns ("" = all it may see); nullopt while the index is being built.
  std::optional<std::vector<ObjectPtr>> byIndex(const IndexSpec& spec, std::string_view value,
                                                const std::string& ns) const;

 private:
  friend class SharedInformers;
  Subscription(SharedInformers* owner, std::shared_ptr<Informer> informer, uint64_t handlerId,
               std::string scope)
      : owner_(owner),
        informer_(std::move(informer)),
        handlerId_(handlerId),
        scope_(std::move(scope)) {}
  // The namespace a read of ns may look in; nullopt when ns is outside the scope.
  std::optional<std::string> scopedNamespace(const std::string& ns) const;

  SharedInformers* owner_ = nullptr;
  std::shared_ptr<Informer> informer_;
  uint64_t handlerId_ = 0;
  std::string scope_;
};

struct SharedInformerOptions {
  InformerOptions informer;
  // Namespaces of one resource (and selectors) subscribed before later subscriptions share one
  // cluster-wide watch, if the host may list and watch it cluster-wide; 0: never.
  size_t clusterWideAfter = 0;
};

class SharedInformers {
 public:
  SharedInformers(kube::Client& client, InformerOptions defaults = {})
      : SharedInformers(client, SharedInformerOptions{std::move(defaults), 0}) {}
  SharedInformers(kube::Client& client, SharedInformerOptions options)
      : client_(client),
        defaults_(std::move(options.informer)),
        clusterWideAfter_(options.clusterWideAfter) {}
  // Subscriptions must not outlive this object.
  ~SharedInformers();

  // Subscribes handlers to the informer for key, creating and starting it if needed. A new
  // subscriber of a synced informer first gets an add for each object in the store.
  Subscription subscribe(const InformerKey& key, Handlers handlers);

  size_t activeInformers() const;
  // Objects in all the informers' stores, and their bytes by the stores' accounting (for
  // the status file's memory breakdown).
  struct CacheTotals {
    size_t objects = 0;
    size_t objectBytes = 0;
    size_t indexBytes = 0;  // field indexes (Store::indexBytes), apart from the objects
  };
  CacheTotals cacheTotals() const;
  // What every informer did since the start, stopped ones included (monotonic, for metrics).
  struct ActivityTotals {
    uint64_t lists = 0;             // complete LISTs, the first of each informer included
    uint64_t watches = 0;           // watch requests started (the first of each, then reconnects)
    uint64_t relistsAfterGone = 0;  // 410 Gone answers, each followed by a relist
    uint64_t errors = 0;            // failed lists and watches
  };
  ActivityTotals activityTotals() const;
  // The informer for key if one is running (for tests and metrics), else null.
  std::shared_ptr<Informer> find(const InformerKey& key) const;
  // Resources (with selectors) whose namespaced subscribers now share a cluster-wide watch.
  size_t clusterWideResources() const;
  // Where cluster-wide sharing of wide (a key with no namespace) stands: "unknown" (fewer
  // namespaces than the threshold), "checking", "allowed" or "denied".
  std::string clusterWideState(const InformerKey& wide) const;

 private:
  friend class Subscription;
  void unsubscribe(const std::shared_ptr<Informer>& informer, uint64_t handlerId);

  struct Entry {
    std::shared_ptr<Informer> informer;
    size_t subscribers = 0;
  };

  static void addCounters(ActivityTotals& totals, const InformerCounters& counters);

  // Cluster-wide sharing of one resource and selectors, keyed by the cluster-wide key's id.
  // Shared with the access checks in flight, which may answer after this object is gone.
  enum class WideAccess { kUnknown, kChecking, kAllowed, kDenied };
  struct WideGroup {
    std::set<std::string> namespaces;  // asked for so far
    WideAccess access = WideAccess::kUnknown;
  };
  struct WideState {
    std::mutex mutex;
    std::condition_variable answered;  // an access check's answer arrived
    std::map<std::string, WideGroup> groups;
  };
  // Whether key should go to its cluster-wide informer; starts the access check when the
  // group reaches clusterWideAfter_ namespaces, and waits (briefly) for an answer in flight.
  bool shareClusterWide(const InformerKey& key, const InformerKey& wide);

  kube::Client& client_;
  const InformerOptions defaults_;
  const size_t clusterWideAfter_;
  const std::shared_ptr<WideState> wide_ = std::make_shared<WideState>();
  ActivityTotals retired_;  // of informers stopped since (guarded by mutex_)
  mutable std::mutex mutex_;
  std::map<std::string, Entry> informers_;
};

}  // namespace wop::cache
