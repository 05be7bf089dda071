// An informer: lists a resource (paginated), then watches it from the list's resourceVersion,
// keeping a Store in step and telling its handlers what changed. Like client-go's reflector
// and kube-rs's watcher:
//   - bookmarks advance the resourceVersion without touching the store;
//   - a watch the server ends normally (its timeout) resumes from the last resourceVersion:
//     no relist, no event for anyone; but one that ended within a second with nothing in it
//     (a proxy that closes watches, a server restarting) is retried after backoff, as
//     client-go's reflector does, so the informer does not spin against the server;
//   - 410 Gone (the resourceVersion is too old, e.g. after etcd compaction) relists, and the
//     relist is swapped in atomically, reporting only real differences (so after any
//     interruption the store converges: nothing lost, no phantoms);
//   - connection errors reconnect with jittered exponential backoff.
//
// It runs entirely on the HttpTransport's I/O thread (no thread of its own); handlers are
// called there too and must be short. Store reads are safe from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "cache/store.h"
#include "common/clock.h"
#include "kube/client.h"
#include "kube/watch_decoder.h"

namespace wop::cache {

// What an informer watches. Two subscribers with equal keys share one informer.
struct InformerKey {
  kube::ResourceInfo resource;
  std::string ns;  // "" = all namespaces
  std::string labelSelector;
  std::string fieldSelector;
  bool metadataOnly = false;  // PartialObjectMetadata: no spec/status in memory

  std::string id() const;  // a stable string form, for maps and logs
};

struct InformerOptions {
  int64_t pageSize = 500;
  bool dropManagedFields = true;
  // Applied to each object's JSON before it is stored (e.g. to drop fields an operator never
  // reads); must return valid JSON of the same object. Empty: none.
  std::function<std::string(std::string json)> transform;
  // Watches ask the server to end them after a random time in [min, 2*min] (client-go: 5-10
  // minutes), so connections are refreshed; the informer resumes without a relist.
  std::chrono::seconds minWatchTimeout{300};
  std::chrono::milliseconds backoffBase{200};
  std::chrono::milliseconds backoffMax{30'000};
  kube::RequestOptions requestOptions;  // e.g. impersonation
  // Tells how long a watch lasted (one that ends at once with nothing in it is retried after
  // backoff, not at once). Tests pass a FakeClock; it must outlive the informer.
  const common::Clock* clock = &common::SystemClock::instance();
};

// Called on the informer's (the I/O) thread; each may be left empty.
struct Handlers {
  std::function<void(const ObjectPtr& object)> onAdd;
  std::function<void(const ObjectPtr& before, const ObjectPtr& after)> onUpdate;
  std::function<void(const ObjectPtr& object)> onDelete;
  // Once per addHandlers: when the informer's first list is in the store and onAdd has run
  // for each listed object; or, if it had synced before the handlers were added, right after
  // their replay of the store (a task on the I/O thread, never inside addHandlers itself, whose
  // caller may hold locks). Not called again after a relist, nor after removeHandlers.
  std::function<void()> onSynced;
};

struct InformerCounters {
  std::atomic<uint64_t> lists{0};  // complete LISTs (first one included)
  std::atomic<uint64_t> listPages{0};
  std::atomic<uint64_t> watches{0};  // watch requests started
  std::atomic<uint64_t> gone{0};     // 410 Gone seen (each leads to a relist)
  std::atomic<uint64_t> events{0};   // ADDED/MODIFIED/DELETED applied
  std::atomic<uint64_t> bookmarks{0};
  std::atomic<uint64_t> errors{0};        // failed lists/watches (each followed by a retry)
  std::atomic<uint64_t> decodeErrors{0};  // events whose object could not be decoded
};

class Informer;

// One user's hold on a field index of an informer's store (Informer::addIndex): the index is
// kept while any registration of its spec lives. Holds the informer weakly, so it may outlive
// it (releasing then does nothing). Move-only.
class IndexRegistration {
 public:
  IndexRegistration() = default;
  IndexRegistration(IndexRegistration&& other) noexcept { *this = std::move(other); }
  IndexRegistration& operator=(IndexRegistration&& other) noexcept;
  ~IndexRegistration() { reset(); }

  void reset();
  const std::optional<IndexSpec>& spec() const { return spec_; }

 private:
  friend class Informer;
  IndexRegistration(std::weak_ptr<Informer> informer, IndexSpec spec)
      : informer_(std::move(informer)), spec_(std::move(spec)) {}
  std::weak_ptr<Informer> informer_;
  std::optional<IndexSpec> spec_;
};

class Informer : public std::enable_shared_from_this<Informer> {
 public:
  static std::shared_ptr<Informer> create(kube::Client& client, InformerKey key,
                                          InformerOptions options = {});
  ~Informer();

  // Starts listing; idempotent. Stop ends the watch; pending retries do nothing.
  void start();
  void stop();

  const InformerKey& key() const { return key_; }
  const Store& store() const { return store_; }
  bool hasSynced() const { return synced_.load(); }
  // Blocks (not on the I/O thread) until the first list is in the store, or timeout.
  bool waitForSync(std::chrono::milliseconds timeout) const;
  const InformerCounters& counters() const { return counters_; }
  std::string lastError() const;

  // Adds handlers; if the store is already synced, they first get an add for each object, then
  // onSynced. Safe from any thread; the handlers start on the I/O thread. With a scope (a
  // namespace), the handlers hear only of that namespace's objects: one cluster-wide informer
  // serves many namespaced subscribers, each event handed only to its namespace's handlers.
  uint64_t addHandlers(Handlers handlers, std::string scope = "");
  void removeHandlers(uint64_t id);

  // Keeps a field index of spec in the store while the registration lives (Store::addIndex:
  // built at once from what is stored, then kept up to date by every event and relist). Safe
  // from any thread.
  IndexRegistration addIndex(const IndexSpec& spec);

 private:
  friend class IndexRegistration;
  Informer(kube::Client& client, InformerKey key, InformerOptions options);

  void list();
  void listPage(std::string continueToken, std::shared_ptr<std::vector<ObjectPtr>> items);
  void onListPage(kube::ApiResult<kube::HttpResponse> response,
                  std::shared_ptr<std::vector<ObjectPtr>> items);
  void watch();
  void onWatchData(std::string_view chunk);
  void onWatchDone(std::optional<kube::ApiError> error);
  void applyEvent(const kube::WatchEvent& event);
  void relistAfterGone();
  void retryLater(void (Informer::*step)(), const std::string& why);
  void notify(const Store::Change& change);
  void notifySynced();
  common::Result<ObjectPtr> decode(simdjson::dom::element object, const DecodeOptions& options);

  kube::Client& client_;
  const InformerKey key_;
  const InformerOptions options_;
  Store store_;
  InformerCounters counters_;

  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> synced_{false};

  // I/O thread only:
  std::string resourceVersion_;
  std::unique_ptr<kube::StreamHandle> stream_;
  std::unique_ptr<kube::WatchDecoder> decoder_;
  // No simdjson parser is kept: one holds about 40 KiB even after a tiny document (more after
  // a big list page), which was most of what a swapped-out operator's informer cost. Each
  // parse makes its own; a few mallocs per event, next to the parse itself.
  int failures_ = 0;              // consecutive, for backoff
  uint64_t watchGeneration_ = 0;  // callbacks of an older watch are ignored
  common::TimePoint watchStarted_{};
  bool watchSawEvent_ = false;  // any event or bookmark since watchStarted_
  std::string listApiVersion_, listKind_;

  struct HandlerEntry {
    Handlers handlers;
    std::string scope;  // a namespace, or "" for every object
    std::atomic<bool> active{true};
    bool syncReported = false;  // I/O thread only: onSynced has been called
  };

  mutable std::mutex
      mutex_;  // guards handlersByScope_, pendingOrActive_, lastError_; syncedCv_ waits on it
  mutable std::condition_variable syncedCv_;
  using HandlerMap = std::map<uint64_t, std::shared_ptr<HandlerEntry>>;
  // Registered handlers by scope ("" = unscoped), so an event reaches only its namespace's.
  std::map<std::string, HandlerMap> handlersByScope_;
  // The registered handlers that hear of an object of namespace ns (mutex_ held).
  void collectHandlers(const std::string& ns,
                       std::vector<std::shared_ptr<HandlerEntry>>& entries) const;
  std::map<uint64_t, std::shared_ptr<HandlerEntry>> pendingOrActive_;  // not yet removed
  uint64_t nextHandlerId_ = 1;
  std::string lastError_;
};

}  // namespace wop::cache
