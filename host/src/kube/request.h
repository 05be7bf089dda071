// Pure request builders for the Kubernetes REST API (in the spirit of kube-core): they turn a
// resource, a name and options into method, path, query, headers and body. No I/O, no state;
// the client sends what they build.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wop::kube {

struct GroupVersionResource {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;  // plural, lower case: "pods", "testresources"
};

// A resource as discovery describes it.
struct ResourceInfo {
  GroupVersionResource gvr;
  std::string kind;
  bool namespaced = true;
};

struct HttpRequest {
  std::string method;  // GET, POST, PUT, PATCH, DELETE
  std::string path;    // path plus query string, e.g. /api/v1/namespaces/a/pods?limit=500
  std::string body;
  std::string contentType;  // empty when there is no body
  std::string accept = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  bool streaming = false;                            // a watch: the body arrives as a stream
  std::optional<std::chrono::milliseconds> timeout;  // whole-request timeout, if any
};

struct ListOptions {
  std::string labelSelector;
  std::string fieldSelector;
  int64_t limit = 0;  // 0: no limit
  std::string continueToken;
  std::string resourceVersion;
  std::string resourceVersionMatch;  // NotOlderThan | Exact
};

struct WatchOptions {
  std::string labelSelector;
  std::string fieldSelector;
  std::string resourceVersion;
  bool allowBookmarks = true;
  int64_t timeoutSeconds = 0;  // 0: server default
};

enum class PatchType { kJsonMerge, kJsonPatch, kStrategicMerge, kApply };

const char* patchContentType(PatchType type);

struct WriteOptions {
  std::string fieldManager;
  bool dryRun = false;
};

struct PatchOptions {
  std::string fieldManager;  // required for kApply
  bool force = false;        // kApply only: take ownership of conflicting fields
  bool dryRun = false;
};

struct DeleteOptions {
  std::string propagationPolicy;  // Foreground | Background | Orphan; empty: server default
  std::optional<int64_t> gracePeriodSeconds;
  std::string preconditionUid;
  std::string preconditionResourceVersion;
  bool dryRun = false;
};

// Where the resource lives: /api/v1 for the core group, /apis/<group>/<version> otherwise,
// then /namespaces/<ns> when namespaced and ns is set, then /<resource>.
std::string collectionPath(const ResourceInfo& resource, const std::string& ns);
// collectionPath + "/<name>" [+ "/<subresource>"]
std::string objectPath(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                       const std::string& subresource = "");

// Percent-encodes a query parameter value (RFC 3986 unreserved characters kept).
std::string urlEncode(std::string_view value);

HttpRequest getRequest(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                       const std::string& subresource = "");
HttpRequest listRequest(const ResourceInfo& resource, const std::string& ns,
                        const ListOptions& options);
HttpRequest watchRequest(const ResourceInfo& resource, const std::string& ns,
                         const WatchOptions& options);
HttpRequest createRequest(const ResourceInfo& resource, const std::string& ns, std::string body,
                          const WriteOptions& options = {});
// PUT to the object (or its subresource, e.g. "status"); a stale metadata.resourceVersion
// in body makes the server answer Conflict.
HttpRequest updateRequest(const ResourceInfo& resource, const std::string& ns,
                          const std::string& name, std::string body,
                          const WriteOptions& options = {}, const std::string& subresource = "");
HttpRequest patchRequest(const ResourceInfo& resource, const std::string& ns,
                         const std::string& name, PatchType type, std::string body,
                         const PatchOptions& options = {}, const std::string& subresource = "");
HttpRequest deleteRequest(const ResourceInfo& resource, const std::string& ns,
                          const std::string& name, const DeleteOptions& options = {});

}  // namespace wop::kube
