#include "kube/request.h"

#include <cstdio>

namespace wop::kube {
namespace {

// Appends "name=value" (value encoded) to a query string being built.
void addQuery(std::string& query, const char* name, std::string_view value) {
  if (value.empty()) return;
  query += query.empty() ? '?' : '&';
  query += name;
  query += '=';
  query += urlEncode(value);
}

std::string withQuery(std::string path, const std::string& query) { return path + query; }

void addDryRun(std::string& query, bool dryRun) {
  if (dryRun) addQuery(query, "dryRun", "All");
}

HttpRequest bodyRequest(const char* method, std::string path, std::string body,
                        const char* contentType) {
  HttpRequest request;
  request.method = method;
  request.path = std::move(path);
  request.body = std::move(body);
  request.contentType = contentType;
  return request;
}

}  // namespace

const char* patchContentType(PatchType type) {
  switch (type) {
    case PatchType::kJsonMerge:
      return "application/merge-patch+json";
    case PatchType::kJsonPatch:
      return "application/json-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

std::string urlEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (unsigned char c : value) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

std::string collectionPath(const ResourceInfo& resource, const std::string& ns) {
  const auto& gvr = resource.gvr;
  std::string path =
      gvr.group.empty() ? "/api/" + gvr.version : "/apis/" + gvr.group + "/" + gvr.version;
  if (resource.namespaced && !ns.empty()) path += "/namespaces/" + urlEncode(ns);
  return path + "/" + gvr.resource;
}

std::string objectPath(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                       const std::string& subresource) {
  std::string path = collectionPath(resource, ns) + "/" + urlEncode(name);
  if (!subresource.empty()) path += "/" + subresource;
  return path;
}

HttpRequest getRequest(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                       const std::string& subresource) {
  HttpRequest request;
  request.method = "GET";
  request.path = objectPath(resource, ns, name, subresource);
  return request;
}

HttpRequest listRequest(const ResourceInfo& resource, const std::string& ns,
                        const ListOptions& options) {
  std::string query;
  addQuery(query, "labelSelector", options.labelSelector);
  addQuery(query, "fieldSelector", options.fieldSelector);
  if (options.limit > 0) addQuery(query, "limit", std::to_string(options.limit));
  addQuery(query, "continue", options.continueToken);
  addQuery(query, "resourceVersion", options.resourceVersion);
  addQuery(query, "resourceVersionMatch", options.resourceVersionMatch);
  HttpRequest request;
  request.method = "GET";
  request.path = withQuery(collectionPath(resource, ns), query);
  return request;
}

HttpRequest watchRequest(const ResourceInfo& resource, const std::string& ns,
                         const WatchOptions& options) {
  std::string query = "?watch=true";
  addQuery(query, "labelSelector", options.labelSelector);
  addQuery(query, "fieldSelector", options.fieldSelector);
  addQuery(query, "resourceVersion", options.resourceVersion);
  if (options.allowBookmarks) addQuery(query, "allowWatchBookmarks", "true");
  if (options.timeoutSeconds > 0)
    addQuery(query, "timeoutSeconds", std::to_string(options.timeoutSeconds));
  HttpRequest request;
  request.method = "GET";
  request.path = withQuery(collectionPath(resource, ns), query);
  request.streaming = true;
  return request;
}

HttpRequest createRequest(const ResourceInfo& resource, const std::string& ns, std::string body,
                          const WriteOptions& options) {
  std::string query;
  addQuery(query, "fieldManager", options.fieldManager);
  addDryRun(query, options.dryRun);
  return bodyRequest("POST", withQuery(collectionPath(resource, ns), query), std::move(body),
                     "application/json");
}

HttpRequest updateRequest(const ResourceInfo& resource, const std::string& ns,
                          const std::string& name, std::string body, const WriteOptions& options,
                          const std::string& subresource) {
  std::string query;
  addQuery(query, "fieldManager", options.fieldManager);
  addDryRun(query, options.dryRun);
  return bodyRequest("PUT", withQuery(objectPath(resource, ns, name, subresource), query),
                     std::move(body), "application/json");
}

HttpRequest patchRequest(const ResourceInfo& resource, const std::string& ns,
                         const std::string& name, PatchType type, std::string body,
                         const PatchOptions& options, const std::string& subresource) {
  std::string query;
  addQuery(query, "fieldManager", options.fieldManager);
  if (type == PatchType::kApply && options.force) addQuery(query, "force", "true");
  addDryRun(query, options.dryRun);
  return bodyRequest("PATCH", withQuery(objectPath(resource, ns, name, subresource), query),
                     std::move(body), patchContentType(type));
}

HttpRequest deleteRequest(const ResourceInfo& resource, const std::string& ns,
                          const std::string& name, const DeleteOptions& options) {
  // DeleteOptions travel in the body, as kubectl and client-go send them.
  std::string body = R"({"kind":"DeleteOptions","apiVersion":"v1")";
  auto quote = [](const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    return out + "\"";
  };
  if (!options.propagationPolicy.empty())
    body += ",\"propagationPolicy\":" + quote(options.propagationPolicy);
  if (options.gracePeriodSeconds)
    body += ",\"gracePeriodSeconds\":" + std::to_string(*options.gracePeriodSeconds);
  if (!options.preconditionUid.empty() || !options.preconditionResourceVersion.empty()) {
    body += ",\"preconditions\":{";
    bool first = true;
    if (!options.preconditionUid.empty()) {
      body += "\"uid\":" + quote(options.preconditionUid);
      first = false;
    }
    if (!options.preconditionResourceVersion.empty()) {
      body += std::string(first ? "" : ",") +
              "\"resourceVersion\":" + quote(options.preconditionResourceVersion);
    }
    body += "}";
  }
  if (options.dryRun) body += ",\"dryRun\":[\"All\"]";
  body += "}";
  return bodyRequest("DELETE", objectPath(resource, ns, name), std::move(body), "application/json");
}

}  // namespace wop::kube
