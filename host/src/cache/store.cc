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

std::pair<std::vector<IndexSpec>, uint64_t> Store::indexSpecs() const {
  std::shared_lock lock(mutex_);
  std::vector<IndexSpec> specs;
  for (const auto& [id, indexed] : fieldIndexes_) specs.push_back(indexed.spec);
  return {std::move(specs), indexVersion_};
}

void Store::indexFields(FieldIndexes& indexes, const std::string& key,
                        std::vector<std::vector<std::string>> values) {
  size_t i = 0;
  for (auto& [id, indexed] : indexes) indexed.index.set(key, std::move(values[i++]));
}

void Store::unindexFields(FieldIndexes& indexes, const std::string& key) {
  for (auto& [id, indexed] : indexes) indexed.index.erase(key);
}

void Store::addIndex(const IndexSpec& spec) {
  std::unique_lock lock(mutex_);
  auto [it, inserted] = fieldIndexes_.try_emplace(spec.id(), Indexed{spec, 0, {}});
  it->second.users++;
  if (!inserted) return;
  indexVersion_++;
  const std::vector<IndexSpec> one = {spec};
  for (const auto& [key, object] : items_)
    it->second.index.set(key, std::move(indexValues(one, *object)[0]));
}

void Store::releaseIndex(const IndexSpec& spec) {
  FieldIndex dropped;  // freed outside the lock
  {
    std::unique_lock lock(mutex_);
    auto it = fieldIndexes_.find(spec.id());
    if (it == fieldIndexes_.end() || --it->second.users > 0) return;
    dropped = std::move(it->second.index);
    fieldIndexes_.erase(it);
    indexVersion_++;
  }
}

std::optional<std::vector<ObjectPtr>> Store::byIndex(const IndexSpec& spec, std::string_view value,
                                                     std::string_view ns) const {
  std::shared_lock lock(mutex_);
  auto it = fieldIndexes_.find(spec.id());
  if (it == fieldIndexes_.end()) return std::nullopt;
  std::vector<ObjectPtr> out;
  for (const auto& key : it->second.index.keys(value, ns)) {
    if (auto object = items_.find(key); object != items_.end()) out.push_back(object->second);
  }
  return out;
}

size_t Store::indexBytes() const {
  std::shared_lock lock(mutex_);
  size_t bytes = 0;
  for (const auto& [id, indexed] : fieldIndexes_) bytes += indexed.index.memoryBytes();
  return bytes;
}

Store::Change Store::upsert(ObjectPtr object) {
  const std::string key = object->key();
  // Values are extracted outside the lock (a parse of the object, for some specs), then
  // extracted again inside it in the rare case that an index came or went meanwhile.
  auto [specs, version] = indexSpecs();
  auto values = indexValues(specs, *object);
  std::unique_lock lock(mutex_);
  if (version != indexVersion_) {
    specs.clear();
    for (const auto& [id, indexed] : fieldIndexes_) specs.push_back(indexed.spec);
    values = indexValues(specs, *object);
  }
  indexFields(fieldIndexes_, key, std::move(values));
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
  unindexFields(fieldIndexes_, key);
  objectBytes_ -= it->second->memoryBytes();
  items_.erase(it);
  return change;
}

std::vector<Store::Change> Store::replace(std::vector<ObjectPtr> objects) {
  // Build the new contents without the lock, then swap: readers never see a partial state.
  auto [specs, version] = indexSpecs();
  auto buildFieldIndexes = [](const std::vector<IndexSpec>& specs, const Items& items) {
    FieldIndexes indexes;
    for (const auto& spec : specs) indexes.try_emplace(spec.id(), Indexed{spec, 0, {}});
    for (const auto& [key, object] : items) indexFields(indexes, key, indexValues(specs, *object));
    return indexes;
  };
  Items items;
  OwnerIndex byOwner;
  size_t bytes = 0;
  for (auto& object : objects) {
    const std::string key = object->key();
    indexOwners(byOwner, *object, key);
    bytes += object->memoryBytes();
    items[key] = std::move(object);
  }
  FieldIndexes fieldIndexes = buildFieldIndexes(specs, items);
  std::vector<Change> changes;
  {
    std::unique_lock lock(mutex_);
    if (version != indexVersion_) {  // an index came or went meanwhile: rare, built again here
      specs.clear();
      for (const auto& [id, indexed] : fieldIndexes_) specs.push_back(indexed.spec);
      fieldIndexes = buildFieldIndexes(specs, items);
    }
    // The users stay with the store's entries; only the contents are swapped (the old ones are
    // freed with fieldIndexes, outside the lock).
    for (auto& [id, indexed] : fieldIndexes_) std::swap(indexed.index, fieldIndexes.at(id).index);
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
