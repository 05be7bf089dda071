#include "runtime/guest_api_request.h"

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/json_depth.h"
#include "common/json_fields.h"
#include "common/limits.h"
#include "kube/api_names.h"

namespace wop::runtime {
namespace {

using common::Status;
using common::StatusCode;
using Json = nlohmann::json;

Status invalid(const std::string& what) {
  return Status(StatusCode::kInvalidArgument, "api call: " + what);
}

bool needsName(const std::string& verb) {
  return verb == WOP_VERB_GET || verb == WOP_VERB_UPDATE || verb == WOP_VERB_UPDATE_STATUS ||
         verb == WOP_VERB_PATCH || verb == WOP_VERB_APPLY || verb == WOP_VERB_DELETE;
}

bool needsBody(const std::string& verb) {
  return verb == WOP_VERB_CREATE || verb == WOP_VERB_UPDATE || verb == WOP_VERB_UPDATE_STATUS ||
         verb == WOP_VERB_PATCH || verb == WOP_VERB_APPLY || verb == WOP_VERB_EVENT;
}

std::string nowRfc3339() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

common::Result<std::string> eventObject(const GuestApiRequest& request, const std::string& ns,
                                        const std::string& operatorName) {
  auto body = Json::parse(request.body, nullptr, false);
  if (!body.is_object()) return invalid("event body must be an object");
  auto involved = body.find("involvedObject");
  if (involved == body.end() || !involved->is_object() || !involved->contains("name")) {
    return invalid("event body needs involvedObject with a name");
  }
  const std::string type = common::stringField(body, "type", "Normal");
  if (type != "Normal" && type != "Warning") return invalid("event type must be Normal or Warning");
  const std::string name =
      (*involved)["name"].is_string() ? (*involved)["name"].get<std::string>() : "object";
  const std::string now = nowRfc3339();
  Json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"generateName", name + "."}, {"namespace", ns}}},
      {"involvedObject", *involved},
      {"type", type},
      {"reason", common::stringField(body, "reason")},
      {"message", common::stringField(body, "message")},
      {"source", {{"component", operatorName}}},
      {"reportingComponent", operatorName},
      {"firstTimestamp", now},
      {"lastTimestamp", now},
      {"count", 1},
  };
  return event.dump();
}

// Every name that goes into a URL or a query, by the API server's rules (kube/api_names.h).
Status checkNames(const GuestApiRequest& request) {
  if (request.verb != WOP_VERB_EVENT) {
    if (auto status = kube::checkApiVersion(request.apiVersion); !status.isOk()) return status;
    if (auto status = kube::checkKind(request.kind); !status.isOk()) return status;
  }
  if (auto status = kube::checkNamespace(request.ns); !status.isOk()) return status;
  if (!request.name.empty()) {
    if (auto status = kube::checkObjectName(request.name); !status.isOk()) return status;
  }
  if (auto status = kube::checkLabelSelector(request.labelSelector); !status.isOk()) return status;
  if (auto status = kube::checkResourceVersion(request.resourceVersion); !status.isOk())
    return status;
  if (auto status = kube::checkFieldManager(request.fieldManager); !status.isOk()) return status;
  const auto& match = request.resourceVersionMatch;
  if (!match.empty() && match != "NotOlderThan" && match != "Exact")
    return Status(StatusCode::kInvalidArgument,
                  "resourceVersionMatch must be NotOlderThan or Exact");
  const auto& policy = request.propagationPolicy;
  if (!policy.empty() && policy != "Foreground" && policy != "Background" && policy != "Orphan") {
    return Status(StatusCode::kInvalidArgument,
                  "propagationPolicy must be Foreground, Background or Orphan");
  }
  return Status::ok();
}

}  // namespace

common::Result<GuestApiRequest> parseGuestApiRequest(std::string_view text) {
  if (!common::jsonDepthWithin(text, limits::kMaxGuestJsonDepth)) {
    return invalid("request nests deeper than " + std::to_string(limits::kMaxGuestJsonDepth) +
                   " levels");
  }
  auto json = Json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return invalid("request is not a JSON object");
  auto str = [&](const char* field) {
    auto it = json.find(field);
    return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  GuestApiRequest request;
  request.verb = str("verb");
  request.apiVersion = str("apiVersion");
  request.kind = str("kind");
  request.ns = str("namespace");
  request.name = str("name");
  request.fieldManager = str("fieldManager");
  request.propagationPolicy = str("propagationPolicy");
  request.labelSelector = str("labelSelector");
  request.resourceVersion = str("resourceVersion");
  request.resourceVersionMatch = str("resourceVersionMatch");
  request.subresource = str("subresource");
  if (auto it = json.find("patchType"); it != json.end() && it->is_string())
    request.patchType = it->get<std::string>();
  if (auto it = json.find("force"); it != json.end() && it->is_boolean())
    request.force = it->get<bool>();
  if (auto it = json.find("body"); it != json.end()) request.body = it->dump();

  static const std::vector<std::string> kVerbs = {
      WOP_VERB_GET,   WOP_VERB_LIST,  WOP_VERB_CREATE, WOP_VERB_UPDATE, WOP_VERB_UPDATE_STATUS,
      WOP_VERB_PATCH, WOP_VERB_APPLY, WOP_VERB_DELETE, WOP_VERB_EVENT};
  if (std::find(kVerbs.begin(), kVerbs.end(), request.verb) == kVerbs.end()) {
    return invalid("unknown verb \"" + request.verb + "\"");
  }
  if (request.verb != WOP_VERB_EVENT && (request.apiVersion.empty() || request.kind.empty())) {
    return invalid("apiVersion and kind are required");
  }
  if (needsName(request.verb) && request.name.empty())
    return invalid(request.verb + " needs a name");
  if (needsBody(request.verb) && request.body.empty())
    return invalid(request.verb + " needs a body");
  if (request.patchType != WOP_PATCH_MERGE && request.patchType != WOP_PATCH_JSON &&
      request.patchType != WOP_PATCH_STRATEGIC) {
    return invalid("patchType must be merge, json or strategic");
  }
  // The subresource becomes a path segment: only the one word the ABI defines, only where the
  // host sends it, and nothing else reaches the URL (a non-string is refused, not ignored).
  if (auto it = json.find("subresource"); it != json.end() && !it->is_string())
    return invalid("subresource must be a string");
  if (!request.subresource.empty()) {
    if (request.subresource != WOP_SUBRESOURCE_STATUS)
      return invalid("subresource must be \"" WOP_SUBRESOURCE_STATUS "\"");
    if (request.verb != WOP_VERB_PATCH && request.verb != WOP_VERB_APPLY)
      return invalid("subresource is only for patch and apply");
  }
  if (auto status = checkNames(request); !status.isOk()) return invalid(status.message());
  return request;
}

common::Result<kube::HttpRequest> toHttpRequest(const GuestApiRequest& request,
                                                const kube::ResourceInfo& resource,
                                                const std::string& operatorName) {
  const std::string manager = request.fieldManager.empty() ? operatorName : request.fieldManager;
  const auto& verb = request.verb;
  if (verb == WOP_VERB_GET) {
    auto get = kube::getRequest(resource, request.ns, request.name);
    if (!request.resourceVersion.empty())
      get.path += "?resourceVersion=" + kube::urlEncode(request.resourceVersion);
    return get;
  }
  if (verb == WOP_VERB_LIST) {
    return kube::listRequest(resource, request.ns,
                             {.labelSelector = request.labelSelector,
                              .resourceVersion = request.resourceVersion,
                              .resourceVersionMatch = request.resourceVersionMatch});
  }
  if (verb == WOP_VERB_CREATE)
    return kube::createRequest(resource, request.ns, request.body, {.fieldManager = manager});
  if (verb == WOP_VERB_UPDATE)
    return kube::updateRequest(resource, request.ns, request.name, request.body,
                               {.fieldManager = manager});
  if (verb == WOP_VERB_UPDATE_STATUS) {
    return kube::updateRequest(resource, request.ns, request.name, request.body,
                               {.fieldManager = manager}, "status");
  }
  if (verb == WOP_VERB_PATCH) {
    const auto type = request.patchType == WOP_PATCH_JSON        ? kube::PatchType::kJsonPatch
                      : request.patchType == WOP_PATCH_STRATEGIC ? kube::PatchType::kStrategicMerge
                                                                 : kube::PatchType::kJsonMerge;
    return kube::patchRequest(resource, request.ns, request.name, type, request.body,
                              {.fieldManager = manager}, request.subresource);
  }
  if (verb == WOP_VERB_APPLY) {
    return kube::patchRequest(resource, request.ns, request.name, kube::PatchType::kApply,
                              request.body, {.fieldManager = manager, .force = request.force},
                              request.subresource);
  }
  if (verb == WOP_VERB_DELETE) {
    return kube::deleteRequest(resource, request.ns, request.name,
                               {.propagationPolicy = request.propagationPolicy});
  }
  // An Event lives in a namespace; one about a cluster-scoped object (a Namespace, a Node)
  // goes to "default", as client-go's recorder does.
  const std::string eventNamespace = request.ns.empty() ? "default" : request.ns;
  auto event = eventObject(request, eventNamespace, operatorName);
  if (!event) return event.status();
  return kube::createRequest(resource, eventNamespace, std::move(*event));
}

}  // namespace wop::runtime
