#include "kube/discovery.h"

#include <nlohmann/json.hpp>

#include "common/json_fields.h"
#include "kube/client.h"

namespace wop::kube {

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

ApiResult<std::vector<ResourceInfo>> Discovery::fetch(const std::string& apiVersion) {
  const auto gv = splitApiVersion(apiVersion);
  HttpRequest request;
  request.method = "GET";
  request.path = gv.group.empty() ? "/api/" + gv.version : "/apis/" + gv.group + "/" + gv.version;
  fetches_++;
  auto response = client_.execute(std::move(request));
  if (!response) return response.error();
  return parseApiResourceList(apiVersion, response->body);
}

template <typename Match>
ApiResult<ResourceInfo> Discovery::find(const std::string& apiVersion, const std::string& what,
                                        Match match) {
  auto lookup = [&]() -> std::optional<ResourceInfo> {
    std::lock_guard lock(mutex_);
    auto it = byApiVersion_.find(apiVersion);
    if (it == byApiVersion_.end()) return std::nullopt;
    for (const auto& info : it->second) {
      if (match(info)) return info;
    }
    return std::nullopt;
  };
  if (auto hit = lookup()) return *hit;
  // A miss: the group/version may be new (a CRD installed after start), so ask again.
  auto fetched = fetch(apiVersion);
  if (!fetched) {
    if (fetched.error().reason == ApiReason::kNotFound) {
      return ApiError{ApiReason::kNotFound,
                      404,
                      "the server does not serve " + apiVersion + " (looking for " + what + ")",
                      {}};
    }
    return fetched.error();
  }
  {
    std::lock_guard lock(mutex_);
    byApiVersion_[apiVersion] = std::move(*fetched);
  }
  if (auto hit = lookup()) return *hit;
  return ApiError{ApiReason::kNotFound, 404, apiVersion + " has no " + what, {}};
}

ApiResult<ResourceInfo> Discovery::forKind(const std::string& apiVersion, const std::string& kind) {
  return find(apiVersion, "kind " + kind,
              [&](const ResourceInfo& info) { return info.kind == kind; });
}

ApiResult<ResourceInfo> Discovery::forResource(const std::string& apiVersion,
                                               const std::string& resource) {
  return find(apiVersion, "resource " + resource,
              [&](const ResourceInfo& info) { return info.gvr.resource == resource; });
}

}  // namespace wop::kube
