#include "cache/informer.h"

#include "common/backoff.h"

namespace wop::cache {
namespace {

// A watch that ends normally sooner than this with no event in it is treated as a failure
// (client-go: "very short watch").
constexpr auto kShortestHealthyWatch = std::chrono::seconds(1);

constexpr const char* kMetadataListAccept =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
constexpr const char* kMetadataAccept =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

std::string_view stringAt(simdjson::dom::element element, std::string_view pointer) {
  std::string_view value;
  if (element.at_pointer(pointer).get(value) != simdjson::SUCCESS) return {};
  return value;
}

bool isGone(const kube::ApiError& error) {
  return error.reason == kube::ApiReason::kGone || error.reason == kube::ApiReason::kExpired;
}

}  // namespace

std::string InformerKey::id() const {
  const auto& gvr = resource.gvr;
  return gvr.group + "/" + gvr.version + "/" + gvr.resource + "|ns=" + ns +
         "|labels=" + labelSelector + "|fields=" + fieldSelector +
         (metadataOnly ? "|metadata" : "");
}

std::shared_ptr<Informer> Informer::create(kube::Client& client, InformerKey key,
                                           InformerOptions options) {
  return std::shared_ptr<Informer>(new Informer(client, std::move(key), std::move(options)));
}

Informer::Informer(kube::Client& client, InformerKey key, InformerOptions options)
    : client_(client), key_(std::move(key)), options_(std::move(options)) {}

// stream_'s destructor cancels the watch (safe from any thread); callbacks hold weak
// pointers, so none can reach this object once destruction has begun.
Informer::~Informer() = default;

void Informer::start() {
  if (started_.exchange(true)) return;
  std::weak_ptr<Informer> weak = weak_from_this();
  client_.transport().schedule(std::chrono::milliseconds(0), [weak] {
    if (auto self = weak.lock()) self->list();
  });
}

void Informer::stop() {
  if (stopped_.exchange(true)) return;
  std::weak_ptr<Informer> weak = weak_from_this();
  client_.transport().schedule(std::chrono::milliseconds(0), [weak] {
    if (auto self = weak.lock()) {
      self->watchGeneration_++;
      self->stream_.reset();
    }
  });
}

bool Informer::waitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return syncedCv_.wait_for(lock, timeout, [this] { return synced_.load(); });
}

std::string Informer::lastError() const {
  std::lock_guard lock(mutex_);
  return lastError_;
}

uint64_t Informer::addHandlers(Handlers handlers, std::string scope) {
  auto entry = std::make_shared<HandlerEntry>();
  entry->handlers = std::move(handlers);
  entry->scope = std::move(scope);
  uint64_t id;
  {
    std::lock_guard lock(mutex_);
    id = nextHandlerId_++;
  }
  // Registered on the I/O thread, where the store changes: the replay of existing objects
  // and later events cannot interleave.
  std::weak_ptr<Informer> weak = weak_from_this();
  client_.transport().schedule(std::chrono::milliseconds(0), [weak, entry, id] {
    auto self = weak.lock();
    if (!self || !entry->active) return;
    if (self->synced_) {
      for (const auto& object : self->store_.list(entry->scope)) {
        if (entry->handlers.onAdd) entry->handlers.onAdd(object);
      }
    }
    {
      std::lock_guard lock(self->mutex_);
      if (!entry->active) return;  // removed during the replay (removeHandlers holds the lock)
      self->handlersByScope_[entry->scope][id] = entry;
    }
    // Synced before these handlers came: their replay above was their first list. (Otherwise
    // the first list's end reports it, on this thread, so the two cannot both miss it.)
    if (self->synced_ && !entry->syncReported && entry->active) {
      entry->syncReported = true;
      if (entry->handlers.onSynced) entry->handlers.onSynced();
    }
  });
  std::lock_guard lock(mutex_);
  pendingOrActive_[id] = entry;
  return id;
}

void Informer::removeHandlers(uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = pendingOrActive_.find(id);
  if (it == pendingOrActive_.end()) return;
  it->second->active = false;
  auto scoped = handlersByScope_.find(it->second->scope);
  pendingOrActive_.erase(it);
  if (scoped == handlersByScope_.end()) return;  // not registered yet: its task will see inactive
  scoped->second.erase(id);
  if (scoped->second.empty()) handlersByScope_.erase(scoped);
}

void Informer::collectHandlers(const std::string& ns,
                               std::vector<std::shared_ptr<HandlerEntry>>& entries) const {
  if (auto all = handlersByScope_.find(""); all != handlersByScope_.end()) {
    for (const auto& [id, entry] : all->second) entries.push_back(entry);
  }
  if (ns.empty()) return;
  if (auto scoped = handlersByScope_.find(ns); scoped != handlersByScope_.end()) {
    for (const auto& [id, entry] : scoped->second) entries.push_back(entry);
  }
}

void Informer::notify(const Store::Change& change) {
  const auto& object = change.after ? change.after : change.before;
  if (!object) return;
  std::vector<std::shared_ptr<HandlerEntry>> entries;
  {
    std::lock_guard lock(mutex_);
    collectHandlers(object->ns, entries);
  }
  for (const auto& entry : entries) {
    if (!entry->active) continue;
    const auto& h = entry->handlers;
    if (!change.before && change.after) {
      if (h.onAdd) h.onAdd(change.after);
    } else if (change.before && change.after) {
      if (h.onUpdate) h.onUpdate(change.before, change.after);
    } else if (change.before) {
      if (h.onDelete) h.onDelete(change.before);
    }
  }
}

void Informer::notifySynced() {
  std::vector<std::shared_ptr<HandlerEntry>> entries;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [scope, handlers] : handlersByScope_) {
      for (const auto& [id, entry] : handlers) entries.push_back(entry);
    }
  }
  for (const auto& entry : entries) {
    if (!entry->active || entry->syncReported) continue;
    entry->syncReported = true;
    if (entry->handlers.onSynced) entry->handlers.onSynced();
  }
}

void Informer::retryLater(void (Informer::*step)(), const std::string& why) {
  counters_.errors++;
  {
    std::lock_guard lock(mutex_);
    lastError_ = why;
  }
  const auto delay = common::jitteredBackoff(failures_, options_.backoffBase, options_.backoffMax,
                                             common::randomUnit());
  failures_++;
  std::weak_ptr<Informer> weak = weak_from_this();
  client_.transport().schedule(delay, [weak, step] {
    auto self = weak.lock();
    if (self && !self->stopped_) (self.get()->*step)();
  });
}

common::Result<ObjectPtr> Informer::decode(simdjson::dom::element object,
                                           const DecodeOptions& options) {
  if (!options_.transform) return decodeObject(object, options);
  std::string json = options_.transform(simdjson::to_string(object));
  simdjson::dom::parser parser;
  return decodeObjectJson(parser, json, options);
}

// ---------------------------------------------------------------------------- list

void Informer::list() {
  if (stopped_) return;
  listPage("", std::make_shared<std::vector<ObjectPtr>>());
}

void Informer::listPage(std::string continueToken, std::shared_ptr<std::vector<ObjectPtr>> items) {
  kube::ListOptions listOptions;
  listOptions.labelSelector = key_.labelSelector;
  listOptions.fieldSelector = key_.fieldSelector;
  listOptions.limit = options_.pageSize;
  listOptions.continueToken = std::move(continueToken);
  auto request = kube::listRequest(key_.resource, key_.ns, listOptions);
  if (key_.metadataOnly) request.accept = kMetadataListAccept;
  std::weak_ptr<Informer> weak = weak_from_this();
  client_.executeAsync(std::move(request), options_.requestOptions,
                       [weak, items](kube::ApiResult<kube::HttpResponse> response) {
                         if (auto self = weak.lock()) self->onListPage(std::move(response), items);
                       });
}

void Informer::onListPage(kube::ApiResult<kube::HttpResponse> response,
                          std::shared_ptr<std::vector<ObjectPtr>> items) {
  if (stopped_) return;
  if (!response) {
    // An expired continue token means the snapshot is gone: start the list over.
    if (isGone(response.error())) counters_.gone++;
    retryLater(&Informer::list, "list: " + response.error().toString());
    return;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element page;
  if (auto error = parser.parse(response->body).get(page); error != simdjson::SUCCESS) {
    retryLater(&Informer::list,
               std::string("list: response is not JSON: ") + simdjson::error_message(error));
    return;
  }
  counters_.listPages++;
  DecodeOptions decodeOptions{options_.dropManagedFields,
                              std::string(stringAt(page, "/apiVersion")),
                              std::string(stringAt(page, "/kind"))};
  if (decodeOptions.kind.ends_with("List"))
    decodeOptions.kind.resize(decodeOptions.kind.size() - 4);
  simdjson::dom::array objects;
  if (page["items"].get(objects) == simdjson::SUCCESS) {
    for (auto item : objects) {
      auto object = decode(item, decodeOptions);
      if (object) {
        items->push_back(std::move(*object));
      } else {
        counters_.decodeErrors++;
      }
    }
  }
  const std::string continueToken(stringAt(page, "/metadata/continue"));
  if (!continueToken.empty()) {
    listPage(continueToken, items);
    return;
  }
  resourceVersion_ = std::string(stringAt(page, "/metadata/resourceVersion"));
  const auto changes = store_.replace(std::move(*items));
  counters_.lists++;
  failures_ = 0;
  {
    std::lock_guard lock(mutex_);
    synced_ = true;
  }
  syncedCv_.notify_all();
  for (const auto& change : changes) notify(change);
  notifySynced();
  watch();
}

// ---------------------------------------------------------------------------- watch

void Informer::watch() {
  if (stopped_) return;
  decoder_ = std::make_unique<kube::WatchDecoder>();
  const uint64_t generation = ++watchGeneration_;
  kube::WatchOptions watchOptions;
  watchOptions.labelSelector = key_.labelSelector;
  watchOptions.fieldSelector = key_.fieldSelector;
  watchOptions.resourceVersion = resourceVersion_;
  watchOptions.allowBookmarks = true;
  const auto minTimeout = options_.minWatchTimeout.count();
  watchOptions.timeoutSeconds =
      minTimeout + static_cast<int64_t>(common::randomUnit() * minTimeout);
  auto request = kube::watchRequest(key_.resource, key_.ns, watchOptions);
  if (key_.metadataOnly) request.accept = kMetadataAccept;

  std::weak_ptr<Informer> weak = weak_from_this();
  kube::StreamCallbacks callbacks;
  callbacks.onData = [weak, generation](std::string_view chunk) {
    auto self = weak.lock();
    if (self && generation == self->watchGeneration_ && !self->stopped_) self->onWatchData(chunk);
  };
  callbacks.onDone = [weak, generation](std::optional<kube::ApiError> error) {
    auto self = weak.lock();
    if (self && generation == self->watchGeneration_ && !self->stopped_)
      self->onWatchDone(std::move(error));
  };
  counters_.watches++;
  watchStarted_ = options_.clock->now();
  watchSawEvent_ = false;
  stream_ = client_.watch(std::move(request), options_.requestOptions, std::move(callbacks));
}

void Informer::onWatchData(std::string_view chunk) {
  std::vector<kube::WatchEvent> events;
  auto status = decoder_->feed(chunk, events);
  if (!events.empty()) watchSawEvent_ = true;
  const uint64_t generation = watchGeneration_;
  for (const auto& event : events) {
    applyEvent(event);
    if (generation != watchGeneration_) return;  // the event ended this watch (410)
  }
  if (!status.isOk()) {
    // A broken stream: drop it and resume from the last resourceVersion we applied.
    watchGeneration_++;
    stream_.reset();
    retryLater(&Informer::watch, "watch stream: " + status.message());
  }
}

void Informer::applyEvent(const kube::WatchEvent& event) {
  using kube::WatchEventType;
  simdjson::dom::parser parser;
  if (event.type == WatchEventType::kError) {
    simdjson::dom::element status;
    int64_t code = 0;
    if (parser.parse(event.object).get(status) == simdjson::SUCCESS) {
      (void)status["code"].get(code);
    }
    watchGeneration_++;
    stream_.reset();
    if (code == 410) {
      relistAfterGone();
    } else {
      retryLater(&Informer::watch, "watch ERROR event: " + event.object.substr(0, 200));
    }
    return;
  }
  if (event.type == WatchEventType::kBookmark) {
    simdjson::dom::element object;
    if (parser.parse(event.object).get(object) == simdjson::SUCCESS) {
      auto rv = stringAt(object, "/metadata/resourceVersion");
      if (!rv.empty()) resourceVersion_ = std::string(rv);
    }
    counters_.bookmarks++;
    return;
  }
  simdjson::dom::element element;
  if (parser.parse(event.object).get(element) != simdjson::SUCCESS) {
    counters_.decodeErrors++;
    return;
  }
  auto object = decode(element, DecodeOptions{options_.dropManagedFields, "", ""});
  if (!object) {
    counters_.decodeErrors++;
    return;
  }
  resourceVersion_ = (*object)->resourceVersion;
  counters_.events++;
  failures_ = 0;
  const auto change = event.type == WatchEventType::kDeleted ? store_.erase((*object)->key())
                                                             : store_.upsert(*object);
  notify(change);
}

void Informer::onWatchDone(std::optional<kube::ApiError> error) {
  stream_.reset();
  if (!error) {
    if (!watchSawEvent_ && options_.clock->now() - watchStarted_ < kShortestHealthyWatch) {
      retryLater(&Informer::watch, "watch: ended at once with no event");
      return;
    }
    failures_ = 0;
    watch();  // the server's timeout: resume where we were, no relist
    return;
  }
  if (isGone(*error)) {
    relistAfterGone();
    return;
  }
  retryLater(&Informer::watch, "watch: " + error->toString());
}

void Informer::relistAfterGone() {
  counters_.gone++;
  watchGeneration_++;
  stream_.reset();
  resourceVersion_.clear();
  list();
}

IndexRegistration Informer::addIndex(const IndexSpec& spec) {
  store_.addIndex(spec);
  return IndexRegistration(weak_from_this(), spec);
}

IndexRegistration& IndexRegistration::operator=(IndexRegistration&& other) noexcept {
  if (this != &other) {
    reset();
    informer_ = std::move(other.informer_);
    spec_ = std::move(other.spec_);
    other.spec_.reset();
  }
  return *this;
}

void IndexRegistration::reset() {
  if (!spec_) return;
  if (auto informer = informer_.lock()) informer->store_.releaseIndex(*spec_);
  spec_.reset();
  informer_.reset();
}

}  // namespace wop::cache
