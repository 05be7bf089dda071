#include "kube/discovery.h"

#include <algorithm>
#include <future>
#include <nlohmann/json.hpp>

#include "common/json_fields.h"
#include "common/limits.h"
#include "kube/api_names.h"
#include "kube/client.h"

namespace wop::kube {
namespace {

constexpr auto kMissTtl = std::chrono::seconds(limits::kDiscoveryMissTtlSeconds);

ApiError notServed(const std::string& apiVersion, const std::string& what) {
  return ApiError{ApiReason::kNotFound,
                  404,
                  "the server does not serve " + apiVersion + " (looking for " + what + ")",
                  {}};
}

ApiError lacks(const std::string& apiVersion, const std::string& what) {
  return ApiError{ApiReason::kNotFound, 404, apiVersion + " has no " + what, {}};
}

// Removes the entry of map with the smallest key(entry), if map has reached max entries.
template <typename Map, typename Key>
void makeRoom(Map& map, size_t max, Key key) {
  if (map.size() < max) return;
  auto oldest = map.begin();
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (key(it->second) < key(oldest->second)) oldest = it;
  }
  map.erase(oldest);
}

}  // namespace

GroupVersionResource splitApiVersion(const std::string& apiVersion) {
  const auto slash = apiVersion.find('/');
  if (slash == std::string::npos) return {"", apiVersion, ""};
  return {apiVersion.substr(0, slash), apiVersion.substr(slash + 1), ""};
}

ApiResult<std::vector<ResourceInfo>> parseApiResourceList(const std::string& apiVersion,
                                                          const std::string& body) {
  auto list = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (list.is_discarded() || !list.is_object()) {
    return decodeError("discovery of " + apiVersion + ": response is not JSON");
  }
  auto resources = list.find("resources");
  if (resources == list.end() || !resources->is_array()) {
    return decodeError("discovery of " + apiVersion + ": no resources array");
  }
  const auto gv = splitApiVersion(apiVersion);
  std::vector<ResourceInfo> infos;
  for (const auto& entry : *resources) {
    if (!entry.is_object()) continue;
    const std::string name = common::stringField(entry, "name");
    if (name.empty() || name.find('/') != std::string::npos) continue;  // subresources
    ResourceInfo info;
    info.gvr = {gv.group, gv.version, name};
    info.kind = common::stringField(entry, "kind");
    info.namespaced = common::boolField(entry, "namespaced");
    infos.push_back(std::move(info));
  }
  return infos;
}

Discovery::Discovery(Client& client, common::Clock& clock) : client_(client), clock_(clock) {}

Discovery::~Discovery() = default;

std::optional<ApiResult<ResourceInfo>> Discovery::lookupLocked(const std::string& apiVersion,
                                                               const Match& match,
                                                               const std::string& what) {
  const auto now = clock_.now();
  if (auto it = state_->missing.find(apiVersion); it != state_->missing.end()) {
    if (now < it->second.expiresAt) return ApiResult<ResourceInfo>(notServed(apiVersion, what));
    state_->missing.erase(it);
    return std::nullopt;
  }
  auto it = state_->served.find(apiVersion);
  if (it == state_->served.end()) return std::nullopt;
  for (const auto& info : it->second.resources) {
    if (match(info)) return ApiResult<ResourceInfo>(info);
  }
  // A kind the group/version lacked when fetched: a CRD may add it, so fetch again, but not
  // more often than a miss expires.
  if (now - it->second.fetchedAt < kMissTtl)
    return ApiResult<ResourceInfo>(lacks(apiVersion, what));
  return std::nullopt;
}

void Discovery::find(const std::string& apiVersion, std::string what, Match match, Callback done) {
  // Defence in depth: callers validate too, but no path is built from a malformed apiVersion.
  if (auto valid = checkApiVersion(apiVersion); !valid.isOk()) {
    done(ApiError{ApiReason::kBadRequest, 400, valid.message(), {}});
    return;
  }
  std::optional<ApiResult<ResourceInfo>> answer;
  bool first = false;
  {
    std::lock_guard lock(state_->mutex);
    answer = lookupLocked(apiVersion, match, what);
    if (!answer) {
      auto& waiters = state_->waiting[apiVersion];
      first = waiters.empty();
      waiters.push_back({std::move(match), std::move(what), std::move(done)});
    }
  }
  if (answer) {
    done(std::move(*answer));  // outside the lock: done may call back into discovery
    return;
  }
  if (first) fetch(apiVersion);
}

void Discovery::fetch(const std::string& apiVersion) {
  const auto gv = splitApiVersion(apiVersion);
  HttpRequest request;
  request.method = "GET";
  request.path = gv.group.empty() ? "/api/" + gv.version : "/apis/" + gv.group + "/" + gv.version;
  fetches_++;
  std::weak_ptr<State> weak = state_;
  common::Clock& clock = clock_;
  client_.executeAsync(
      std::move(request), {}, [weak, &clock, apiVersion](ApiResult<HttpResponse> response) {
        auto state = weak.lock();
        if (!state) return;
        if (!response) {
          onFetched(state, clock, apiVersion, response.error());
        } else {
          onFetched(state, clock, apiVersion, parseApiResourceList(apiVersion, response->body));
        }
      });
}

void Discovery::onFetched(const std::shared_ptr<State>& state, common::Clock& clock,
                          const std::string& apiVersion,
                          ApiResult<std::vector<ResourceInfo>> result) {
  const auto now = clock.now();
  std::vector<Waiter> waiters;
  {
    std::lock_guard lock(state->mutex);
    if (result) {
      state->missing.erase(apiVersion);
      if (!state->served.count(apiVersion)) {
        makeRoom(state->served, limits::kMaxDiscoveryGroupVersions,
                 [](const Served& served) { return served.fetchedAt; });
      }
      state->served[apiVersion] = {*result, now};
    } else if (result.error().reason == ApiReason::kNotFound) {
      state->served.erase(apiVersion);
      for (auto it = state->missing.begin(); it != state->missing.end();) {
        it = it->second.expiresAt <= now ? state->missing.erase(it) : std::next(it);
      }
      makeRoom(state->missing, limits::kMaxDiscoveryMisses,
               [](const Missing& missing) { return missing.expiresAt; });
      state->missing[apiVersion] = {now + kMissTtl};
    }
    // Other errors (forbidden, unavailable) are not cached: the next call asks again.
    auto it = state->waiting.find(apiVersion);
    if (it != state->waiting.end()) {
      waiters = std::move(it->second);
      state->waiting.erase(it);
    }
  }
  for (auto& waiter : waiters) {
    if (!result) {
      waiter.done(result.error().reason == ApiReason::kNotFound
                      ? ApiResult<ResourceInfo>(notServed(apiVersion, waiter.what))
                      : ApiResult<ResourceInfo>(result.error()));
      continue;
    }
    auto found = std::find_if(result->begin(), result->end(), waiter.match);
    waiter.done(found != result->end() ? ApiResult<ResourceInfo>(*found)
                                       : ApiResult<ResourceInfo>(lacks(apiVersion, waiter.what)));
  }
}

std::optional<ApiResult<ResourceInfo>> Discovery::cachedKind(const std::string& apiVersion,
                                                             const std::string& kind) {
  if (auto valid = checkApiVersion(apiVersion); !valid.isOk())
    return ApiResult<ResourceInfo>(ApiError{ApiReason::kBadRequest, 400, valid.message(), {}});
  std::lock_guard lock(state_->mutex);
  return lookupLocked(
      apiVersion, [&](const ResourceInfo& info) { return info.kind == kind; }, "kind " + kind);
}

void Discovery::forKindAsync(const std::string& apiVersion, const std::string& kind,
                             Callback done) {
  find(
      apiVersion, "kind " + kind, [kind](const ResourceInfo& info) { return info.kind == kind; },
      std::move(done));
}

ApiResult<ResourceInfo> Discovery::findBlocking(const std::string& apiVersion, std::string what,
                                                Match match) {
  if (client_.transport().onIoThread()) {
    return transportError("blocking discovery on the I/O thread (would deadlock)");
  }
  auto promise = std::make_shared<std::promise<ApiResult<ResourceInfo>>>();
  auto future = promise->get_future();
  find(apiVersion, std::move(what), std::move(match),
       [promise](ApiResult<ResourceInfo> result) { promise->set_value(std::move(result)); });
  return future.get();
}

ApiResult<ResourceInfo> Discovery::forKind(const std::string& apiVersion, const std::string& kind) {
  return findBlocking(apiVersion, "kind " + kind,
                      [kind](const ResourceInfo& info) { return info.kind == kind; });
}

ApiResult<ResourceInfo> Discovery::forResource(const std::string& apiVersion,
                                               const std::string& resource) {
  return findBlocking(apiVersion, "resource " + resource, [resource](const ResourceInfo& info) {
    return info.gvr.resource == resource;
  });
}

size_t Discovery::cachedGroupVersions() const {
  std::lock_guard lock(state_->mutex);
  return state_->served.size();
}

size_t Discovery::cachedMisses() const {
  std::lock_guard lock(state_->mutex);
  return state_->missing.size();
}

}  // namespace wop::kube
