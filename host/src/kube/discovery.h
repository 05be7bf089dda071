// Discovery: which resource (plural name, scope) serves a kind in a group/version, cached per
// group/version and fetched again on a miss, so a CRD installed after start is found.
//
// Guests drive it (every wop_api_call names an apiVersion and a kind), so it is bounded:
// only well-formed group/versions are fetched (kube/api_names.h), a fetch never holds a
// worker (forKindAsync), concurrent misses of one group/version share one fetch, a
// group/version the server does not serve (or lacks a kind) is answered from the cache for
// kDiscoveryMissTtlSeconds before it is fetched again, and both caches are capped
// (limits.h). Fetches are the host's own requests: discovery documents are readable by any
// authenticated user, and the path is built only from validated names.
//
// Thread-safety: all methods may be called concurrently. forKind/forResource block (not on the
// I/O thread); forKindAsync never does.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kube/api_error.h"
#include "kube/request.h"

namespace wop::kube {

class Client;

// Splits "apps/v1" into ("apps", "v1") and "v1" into ("", "v1").
GroupVersionResource splitApiVersion(const std::string& apiVersion);

class Discovery {
 public:
  using Callback = std::function<void(ApiResult<ResourceInfo>)>;

  Discovery(Client& client, common::Clock& clock);
  ~Discovery();

  // apiVersion as in objects ("v1", "apps/v1"); kind as in objects ("ConfigMap").
  ApiResult<ResourceInfo> forKind(const std::string& apiVersion, const std::string& kind);
  // resource is the plural ("configmaps").
  ApiResult<ResourceInfo> forResource(const std::string& apiVersion, const std::string& resource);

  // The cache's answer, without any I/O: the resource, an error (a malformed apiVersion, a
  // group/version or kind recently found missing), or nullopt if it must be fetched.
  std::optional<ApiResult<ResourceInfo>> cachedKind(const std::string& apiVersion,
                                                    const std::string& kind);
  // done runs exactly once: at once on this thread if the cache answers, otherwise on the
  // client's I/O thread once the group/version is fetched. It must not block.
  void forKindAsync(const std::string& apiVersion, const std::string& kind, Callback done);

  uint64_t fetches() const { return fetches_; }
  // Group/versions cached as served, and as missing (for tests and metrics).
  size_t cachedGroupVersions() const;
  size_t cachedMisses() const;

 private:
  using Match = std::function<bool(const ResourceInfo&)>;
  struct Served {
    std::vector<ResourceInfo> resources;
    common::TimePoint fetchedAt;
  };
  struct Missing {
    common::TimePoint expiresAt;
  };
  struct Waiter {
    Match match;
    std::string what;
    Callback done;
  };
  // Shared with fetch callbacks, which may outlive this object on the I/O thread.
  struct State {
    std::mutex mutex;
    std::map<std::string, Served> served;
    std::map<std::string, Missing> missing;
    std::map<std::string, std::vector<Waiter>> waiting;  // fetches in flight
  };

  std::optional<ApiResult<ResourceInfo>> lookupLocked(const std::string& apiVersion,
                                                      const Match& match, const std::string& what);
  void find(const std::string& apiVersion, std::string what, Match match, Callback done);
  ApiResult<ResourceInfo> findBlocking(const std::string& apiVersion, std::string what,
                                       Match match);
  void fetch(const std::string& apiVersion);
  static void onFetched(const std::shared_ptr<State>& state, common::Clock& clock,
                        const std::string& apiVersion, ApiResult<std::vector<ResourceInfo>> result);

  Client& client_;
  common::Clock& clock_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::atomic<uint64_t> fetches_{0};
};

// Parses an APIResourceList (the answer of GET /api/v1 or /apis/<group>/<version>).
ApiResult<std::vector<ResourceInfo>> parseApiResourceList(const std::string& apiVersion,
                                                          const std::string& body);

}  // namespace wop::kube
