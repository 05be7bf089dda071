// The informer's store: objects by key, ordered so that one namespace is a contiguous range,
// with an index by owner UID and the field indexes its users asked for (cache/field_index.h).
// One writer (the informer, on the I/O thread), many readers on any thread; field indexes are
// added and released from any thread. A relist swaps in the new contents atomically: readers
// see the old state until the new one is complete, never a half-built one. Field indexes change
// under the same lock as the objects, so a read by index sees exactly the stored objects.
#pragma once

#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cache/cached_object.h"
#include "cache/field_index.h"

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

  // ---- field indexes, counted by users: the first addIndex of a spec builds its index from
  // the stored objects (under the write lock: a parse of each object whose spec needs more
  // than its labels), the last releaseIndex drops it.
  void addIndex(const IndexSpec& spec);
  void releaseIndex(const IndexSpec& spec);
  // Objects whose values for spec include value, in key order, of namespace ns ("" = all);
  // nullopt if no such index was added.
  std::optional<std::vector<ObjectPtr>> byIndex(const IndexSpec& spec, std::string_view value,
                                                std::string_view ns = "") const;
  // Bytes the field indexes hold (FieldIndex::memoryBytes), apart from objectBytes.
  size_t indexBytes() const;

  // Writer side. Each returns what changed (before/after) for notification.
  Change upsert(ObjectPtr object);
  Change erase(const std::string& key);
  // Replaces everything; returns every add, update (resourceVersion differs) and delete.
  std::vector<Change> replace(std::vector<ObjectPtr> objects);

 private:
  using Items = std::map<std::string, ObjectPtr, std::less<>>;
  using OwnerIndex = std::unordered_map<std::string, std::unordered_set<std::string>>;

  struct Indexed {
    IndexSpec spec;
    size_t users = 0;
    FieldIndex index;
  };
  using FieldIndexes = std::map<std::string, Indexed>;  // by IndexSpec::id

  static void indexOwners(OwnerIndex& index, const CachedObject& object, const std::string& key);
  static void unindexOwners(OwnerIndex& index, const CachedObject& object, const std::string& key);
  // The specs of the field indexes and their version (it changes when one is added or dropped),
  // so values can be extracted outside the lock and checked against the version inside it.
  std::pair<std::vector<IndexSpec>, uint64_t> indexSpecs() const;
  // Enters object's values (for specs, in FieldIndexes order) into indexes.
  static void indexFields(FieldIndexes& indexes, const std::string& key,
                          std::vector<std::vector<std::string>> values);
  static void unindexFields(FieldIndexes& indexes, const std::string& key);

  mutable std::shared_mutex mutex_;
  Items items_;
  OwnerIndex byOwner_;
  size_t objectBytes_ = 0;
  FieldIndexes fieldIndexes_;
  uint64_t indexVersion_ = 0;
};

}  // namespace wop::cache
