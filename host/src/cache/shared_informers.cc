#include "cache/shared_informers.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/error_boundary.h"
#include "common/json_fields.h"
#include "kube/request.h"

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

std::optional<std::string> Subscription::scopedNamespace(const std::string& ns) const {
  if (scope_.empty()) return ns;
  if (!ns.empty() && ns != scope_) return std::nullopt;
  return scope_;
}

std::vector<ObjectPtr> Subscription::list(const std::string& ns) const {
  if (!informer_) return {};
  const auto within = scopedNamespace(ns);
  if (!within) return {};
  return informer_->store().list(*within);
}

ObjectPtr Subscription::get(const std::string& key) const {
  if (!informer_) return nullptr;
  auto object = informer_->store().get(key);
  if (object && !scope_.empty() && object->ns != scope_) return nullptr;
  return object;
}

std::optional<std::vector<ObjectPtr>> Subscription::byIndex(const IndexSpec& spec,
                                                            std::string_view value,
                                                            const std::string& ns) const {
  if (!informer_) return std::nullopt;
  const auto within = scopedNamespace(ns);
  if (!within) return std::vector<ObjectPtr>{};
  return informer_->store().byIndex(spec, value, *within);
}

namespace {

using Json = nlohmann::json;

// How long a subscription waits for a cluster-wide access check in flight before it opens its
// own namespaced watch: two small reviews, once per resource; bounded so that a slow API
// server delays a load by no more than this.
constexpr std::chrono::seconds kAccessAnswerWait(1);

// Asks whether the informers' identity may list, then watch, the resource cluster-wide; done
// gets the answer (false on any error: the namespaced watches go on).
void checkClusterWideAccess(kube::Client& client, const kube::RequestOptions& identity,
                            const kube::ResourceInfo& resource, size_t verb,
                            std::function<void(bool allowed, std::string why)> done) {
  static constexpr const char* kVerbs[] = {"list", "watch"};
  if (verb == std::size(kVerbs)) {
    done(true, "");
    return;
  }
  Json body = {{"apiVersion", "authorization.k8s.io/v1"},
               {"kind", "SelfSubjectAccessReview"},
               {"spec",
                {{"resourceAttributes",
                  {{"verb", kVerbs[verb]},
                   {"group", resource.gvr.group},
                   {"resource", resource.gvr.resource}}}}}};
  kube::HttpRequest request =
      kube::createRequest({{"authorization.k8s.io", "v1", "selfsubjectaccessreviews"},
                           "SelfSubjectAccessReview",
                           false},
                          "", body.dump());
  client.executeAsync(
      std::move(request), identity,
      [&client, identity, resource, verb, done = std::move(done)](auto response) mutable {
        if (!response) {
          done(false, "cannot check access: " + response.error().toString());
          return;
        }
        auto answer = Json::parse(response->body, nullptr, false);
        const bool allowed = answer.is_object() && answer.contains("status") &&
                             common::boolField(answer["status"], "allowed");
        if (!allowed) {
          done(false, std::string("may not ") + kVerbs[verb] + " it cluster-wide");
          return;
        }
        checkClusterWideAccess(client, identity, resource, verb + 1, std::move(done));
      });
}

}  // namespace

bool SharedInformers::shareClusterWide(const InformerKey& key, const InformerKey& wide) {
  if (clusterWideAfter_ == 0 || key.ns.empty() || !key.resource.namespaced) return false;
  const std::string wideId = wide.id();
  {
    std::unique_lock lock(wide_->mutex);
    auto& group = wide_->groups[wideId];
    if (group.access == WideAccess::kChecking) {
      // Loads run in parallel: without the wait each would open one more namespaced watch while
      // the answer is on its way (bench-scale at N = 100 with 8 loaders: 86 watches, not 33).
      wide_->answered.wait_for(lock, kAccessAnswerWait,
                               [&group] { return group.access != WideAccess::kChecking; });
    }
    if (group.access == WideAccess::kAllowed) return true;
    group.namespaces.insert(key.ns);
    if (group.access != WideAccess::kUnknown || group.namespaces.size() < clusterWideAfter_) {
      return false;
    }
    group.access = WideAccess::kChecking;
  }
  // This subscription keeps its own namespaced watch, as do those already open; later ones
  // wait for the answer (above).
  std::weak_ptr<WideState> state = wide_;
  checkClusterWideAccess(
      client_, defaults_.requestOptions, wide.resource, 0,
      [state, wideId](bool allowed, std::string why) {
        auto shared = state.lock();
        if (!shared) return;
        {
          std::lock_guard lock(shared->mutex);
          shared->groups[wideId].access = allowed ? WideAccess::kAllowed : WideAccess::kDenied;
        }
        shared->answered.notify_all();
        if (!allowed) {
          common::logToStderr(common::Status(common::StatusCode::kFailedPrecondition, why),
                              "one watch per namespace goes on for " + wideId);
        }
      });
  return false;
}

Subscription SharedInformers::subscribe(const InformerKey& key, Handlers handlers) {
  InformerKey wide = key;
  wide.ns.clear();
  const bool shared = shareClusterWide(key, wide);
  const InformerKey& informerKey = shared ? wide : key;
  std::shared_ptr<Informer> informer;
  {
    std::lock_guard lock(mutex_);
    auto& entry = informers_[informerKey.id()];
    if (!entry.informer) entry.informer = Informer::create(client_, informerKey, defaults_);
    entry.subscribers++;
    informer = entry.informer;
  }
  std::string scope = shared ? key.ns : "";
  const uint64_t handlerId = informer->addHandlers(std::move(handlers), scope);
  informer->start();
  return Subscription(this, informer, handlerId, std::move(scope));
}

size_t SharedInformers::clusterWideResources() const {
  std::lock_guard lock(wide_->mutex);
  size_t count = 0;
  for (const auto& [id, group] : wide_->groups) count += group.access == WideAccess::kAllowed;
  return count;
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

std::string SharedInformers::clusterWideState(const InformerKey& wide) const {
  std::lock_guard lock(wide_->mutex);
  auto it = wide_->groups.find(wide.id());
  if (it == wide_->groups.end()) return "unknown";
  switch (it->second.access) {
    case WideAccess::kUnknown:
      return "unknown";
    case WideAccess::kChecking:
      return "checking";
    case WideAccess::kAllowed:
      return "allowed";
    case WideAccess::kDenied:
      return "denied";
  }
  return "unknown";
}

}  // namespace wop::cache
