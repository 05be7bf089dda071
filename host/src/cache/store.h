// The informer's store: objects by key, ordered so that one namespace is a contiguous range,
// with an index by owner UID. One writer (the informer, on the I/O thread), many readers on
// any thread. A relist swaps in the new contents atomically: readers see the old state until
// the new one is complete, never a half-built one.
#pragma once

#include <map>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cache/cached_object.h"

namespace wop::cache {

class Store {
 public:
  struct Change {
    ObjectPtr before;  // null for an add
    ObjectPtr after;   // null for a delete
  };

  ObjectPtr get(const std::string& key) const;
  // All objects, or those of one namespace ("" = all), in key order.
  std::vector<ObjectPtr> list(const std::string& ns = "") const;
  // Objects that name ownerUid in metadata.ownerReferences.
  std::vector<ObjectPtr> byOwner(const std::string& ownerUid) const;
  size_t size() const;
  // Sum of CachedObject::memoryBytes over the store (not the map's own nodes).
  size_t objectBytes() const;

  // Writer side. Each returns what changed (before/after) for notification.
  Change upsert(ObjectPtr object);
  Change erase(const std::string& key);
  // Replaces everything; returns every add, update (resourceVersion differs) and delete.
  std::vector<Change> replace(std::vector<ObjectPtr> objects);

 private:
  using Items = std::map<std::string, ObjectPtr, std::less<>>;
  using OwnerIndex = std::unordered_map<std::string, std::unordered_set<std::string>>;

  static void indexOwners(OwnerIndex& index, const CachedObject& object, const std::string& key);
  static void unindexOwners(OwnerIndex& index, const CachedObject& object, const std::string& key);

  mutable std::shared_mutex mutex_;
  Items items_;
  OwnerIndex byOwner_;
  size_t objectBytes_ = 0;
};

}  // namespace wop::cache
