// Shared informers: one list+watch per InformerKey (resource, namespace, label selector,
// field selector, metadata-only) however many subscribers it has. Subscriptions are counted;
// when the last one goes, the informer stops and its watch closes.
//
// Thread-safety: subscribe and Subscription destruction may happen on any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

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
  // The shared informer: its store is the cache to read from.
  const std::shared_ptr<Informer>& informer() const { return informer_; }

 private:
  friend class SharedInformers;
  Subscription(SharedInformers* owner, std::shared_ptr<Informer> informer, uint64_t handlerId)
      : owner_(owner), informer_(std::move(informer)), handlerId_(handlerId) {}

  SharedInformers* owner_ = nullptr;
  std::shared_ptr<Informer> informer_;
  uint64_t handlerId_ = 0;
};

class SharedInformers {
 public:
  SharedInformers(kube::Client& client, InformerOptions defaults = {})
      : client_(client), defaults_(std::move(defaults)) {}
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

 private:
  friend class Subscription;
  void unsubscribe(const std::shared_ptr<Informer>& informer, uint64_t handlerId);

  struct Entry {
    std::shared_ptr<Informer> informer;
    size_t subscribers = 0;
  };

  static void addCounters(ActivityTotals& totals, const InformerCounters& counters);

  kube::Client& client_;
  const InformerOptions defaults_;
  ActivityTotals retired_;  // of informers stopped since (guarded by mutex_)
  mutable std::mutex mutex_;
  std::map<std::string, Entry> informers_;
};

}  // namespace wop::cache
