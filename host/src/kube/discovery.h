// Discovery: which resource (plural name, scope) serves a kind in a group/version, cached per
// group/version and fetched again on a miss, so a CRD installed after start is found.
//
// Thread-safety: all methods may be called concurrently (blocking: not on the I/O thread).
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "kube/api_error.h"
#include "kube/request.h"

namespace wop::kube {

class Client;

// Splits "apps/v1" into ("apps", "v1") and "v1" into ("", "v1").
GroupVersionResource splitApiVersion(const std::string& apiVersion);

class Discovery {
 public:
  explicit Discovery(Client& client) : client_(client) {}

  // apiVersion as in objects ("v1", "apps/v1"); kind as in objects ("ConfigMap").
  ApiResult<ResourceInfo> forKind(const std::string& apiVersion, const std::string& kind);
  // resource is the plural ("configmaps").
  ApiResult<ResourceInfo> forResource(const std::string& apiVersion, const std::string& resource);

  uint64_t fetches() const { return fetches_; }

 private:
  template <typename Match>
  ApiResult<ResourceInfo> find(const std::string& apiVersion, const std::string& what, Match match);
  ApiResult<std::vector<ResourceInfo>> fetch(const std::string& apiVersion);

  Client& client_;
  std::mutex mutex_;
  std::map<std::string, std::vector<ResourceInfo>> byApiVersion_;
  std::atomic<uint64_t> fetches_{0};
};

// Parses an APIResourceList (the answer of GET /api/v1 or /apis/<group>/<version>).
ApiResult<std::vector<ResourceInfo>> parseApiResourceList(const std::string& apiVersion,
                                                          const std::string& body);

}  // namespace wop::kube
