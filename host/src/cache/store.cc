#include "cache/store.h"

#include <mutex>

namespace wop::cache {

ObjectPtr Store::get(const std::string& key) const {
  std::shared_lock lock(mutex_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Store::list(const std::string& ns) const {
  std::shared_lock lock(mutex_);
  std::vector<ObjectPtr> out;
  if (ns.empty()) {
    out.reserve(items_.size());
    for (const auto& [key, object] : items_) out.push_back(object);
    return out;
  }
  const std::string prefix = ns + "/";
  for (auto it = items_.lower_bound(prefix); it != items_.end() && it->first.starts_with(prefix);
       ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::vector<ObjectPtr> Store::byOwner(const std::string& ownerUid) const {
  std::shared_lock lock(mutex_);
  std::vector<ObjectPtr> out;
  auto owned = byOwner_.find(ownerUid);
  if (owned == byOwner_.end()) return out;
  for (const auto& key : owned->second) {
    if (auto it = items_.find(key); it != items_.end()) out.push_back(it->second);
  }
  return out;
}

size_t Store::size() const {
  std::shared_lock lock(mutex_);
  return items_.size();
}

size_t Store::objectBytes() const {
  std::shared_lock lock(mutex_);
  return objectBytes_;
}

void Store::indexOwners(OwnerIndex& index, const CachedObject& object, const std::string& key) {
  for (const auto& owner : object.owners) {
    if (!owner.uid.empty()) index[owner.uid].insert(key);
  }
}

void Store::unindexOwners(OwnerIndex& index, const CachedObject& object, const std::string& key) {
  for (const auto& owner : object.owners) {
    auto it = index.find(owner.uid);
    if (it == index.end()) continue;
    it->second.erase(key);
    if (it->second.empty()) index.erase(it);
  }
}

Store::Change Store::upsert(ObjectPtr object) {
  const std::string key = object->key();
  std::unique_lock lock(mutex_);
  Change change{nullptr, object};
  auto [it, inserted] = items_.try_emplace(key, object);
  if (!inserted) {
    change.before = it->second;
    unindexOwners(byOwner_, *it->second, key);
    objectBytes_ -= it->second->memoryBytes();
    it->second = object;
  }
  indexOwners(byOwner_, *object, key);
  objectBytes_ += object->memoryBytes();
  return change;
}

Store::Change Store::erase(const std::string& key) {
  std::unique_lock lock(mutex_);
  auto it = items_.find(key);
  if (it == items_.end()) return {nullptr, nullptr};
  Change change{it->second, nullptr};
  unindexOwners(byOwner_, *it->second, key);
  objectBytes_ -= it->second->memoryBytes();
  items_.erase(it);
  return change;
}

std::vector<Store::Change> Store::replace(std::vector<ObjectPtr> objects) {
  // Build the new contents without the lock, then swap: readers never see a partial state.
  Items items;
  OwnerIndex byOwner;
  size_t bytes = 0;
  for (auto& object : objects) {
    const std::string key = object->key();
    indexOwners(byOwner, *object, key);
    bytes += object->memoryBytes();
    items[key] = std::move(object);
  }
  std::vector<Change> changes;
  {
    std::unique_lock lock(mutex_);
    for (const auto& [key, after] : items) {
      auto old = items_.find(key);
      if (old == items_.end()) {
        changes.push_back({nullptr, after});
      } else if (old->second->resourceVersion != after->resourceVersion) {
        changes.push_back({old->second, after});
      }
    }
    for (const auto& [key, before] : items_) {
      if (!items.contains(key)) changes.push_back({before, nullptr});
    }
    items_.swap(items);
    byOwner_.swap(byOwner);
    objectBytes_ = bytes;
  }
  return changes;  // the old maps are freed here, outside the lock
}

}  // namespace wop::cache
