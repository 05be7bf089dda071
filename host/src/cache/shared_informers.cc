#include "cache/shared_informers.h"

namespace wop::cache {

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    owner_ = std::exchange(other.owner_, nullptr);
    informer_ = std::move(other.informer_);
    handlerId_ = std::exchange(other.handlerId_, 0);
  }
  return *this;
}

void Subscription::reset() {
  if (owner_ && informer_) owner_->unsubscribe(informer_, handlerId_);
  owner_ = nullptr;
  informer_.reset();
}

SharedInformers::~SharedInformers() {
  std::lock_guard lock(mutex_);
  for (auto& [id, entry] : informers_) entry.informer->stop();
}

Subscription SharedInformers::subscribe(const InformerKey& key, Handlers handlers) {
  std::shared_ptr<Informer> informer;
  {
    std::lock_guard lock(mutex_);
    auto& entry = informers_[key.id()];
    if (!entry.informer) entry.informer = Informer::create(client_, key, defaults_);
    entry.subscribers++;
    informer = entry.informer;
  }
  const uint64_t handlerId = informer->addHandlers(std::move(handlers));
  informer->start();
  return Subscription(this, informer, handlerId);
}

void SharedInformers::unsubscribe(const std::shared_ptr<Informer>& informer, uint64_t handlerId) {
  informer->removeHandlers(handlerId);
  std::lock_guard lock(mutex_);
  auto it = informers_.find(informer->key().id());
  if (it == informers_.end() || it->second.informer != informer) return;
  if (--it->second.subscribers == 0) {
    it->second.informer->stop();
    addCounters(retired_, it->second.informer->counters());
    informers_.erase(it);
  }
}

size_t SharedInformers::activeInformers() const {
  std::lock_guard lock(mutex_);
  return informers_.size();
}

void SharedInformers::addCounters(ActivityTotals& totals, const InformerCounters& counters) {
  totals.lists += counters.lists.load(std::memory_order_relaxed);
  totals.watches += counters.watches.load(std::memory_order_relaxed);
  totals.relistsAfterGone += counters.gone.load(std::memory_order_relaxed);
  totals.errors += counters.errors.load(std::memory_order_relaxed);
}

SharedInformers::ActivityTotals SharedInformers::activityTotals() const {
  std::lock_guard lock(mutex_);
  ActivityTotals totals = retired_;
  for (const auto& [id, entry] : informers_) addCounters(totals, entry.informer->counters());
  return totals;
}

SharedInformers::CacheTotals SharedInformers::cacheTotals() const {
  std::lock_guard lock(mutex_);
  CacheTotals totals;
  for (const auto& [id, entry] : informers_) {
    totals.objects += entry.informer->store().size();
    totals.objectBytes += entry.informer->store().objectBytes();
    totals.indexBytes += entry.informer->store().indexBytes();
  }
  return totals;
}

std::shared_ptr<Informer> SharedInformers::find(const InformerKey& key) const {
  std::lock_guard lock(mutex_);
  auto it = informers_.find(key.id());
  return it == informers_.end() ? nullptr : it->second.informer;
}

}  // namespace wop::cache
