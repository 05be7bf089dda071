#include "runtime/cache_reads.h"

#include <nlohmann/json.hpp>

#include "cache/label_selector.h"
#include "common/json_depth.h"
#include "common/json_fields.h"
#include "common/limits.h"
#include "kube/api_names.h"

namespace wop::runtime {
using hostcalls::hostError;

namespace {

using common::Status;
using hostcalls::HostCallError;
using Json = nlohmann::json;

}  // namespace

hostcalls::HostResult<std::string> readCache(const Controllers& controllers,
                                             std::string_view requestJson) {
  if (!common::jsonDepthWithin(requestJson, limits::kMaxGuestJsonDepth))
    return hostError(WOP_ERR_INVALID_ARGUMENT, "request nests too deep");
  auto request = Json::parse(requestJson, nullptr, false);
  if (!request.is_object())
    return hostError(WOP_ERR_INVALID_ARGUMENT, "request is not a JSON object");
  const std::string apiVersion = common::stringField(request, "apiVersion");
  const std::string kind = common::stringField(request, "kind");
  const std::string ns = common::stringField(request, "namespace");
  const std::string selectorText = common::stringField(request, "labelSelector");
  // Checked as for wop_api_call: these go into messages and store keys.
  for (const auto& status :
       {kube::checkApiVersion(apiVersion), kube::checkKind(kind), kube::checkNamespace(ns),
        kube::checkLabelSelector(selectorText),
        request.contains("name") ? kube::checkObjectName(common::stringField(request, "name"))
                                 : Status::ok()}) {
    if (!status.isOk())
      return hostError(WOP_ERR_INVALID_ARGUMENT, "cache read: " + status.message());
  }
  const auto watches = controllers.findWatches(apiVersion, kind, ns);
  if (watches.empty()) {
    return hostError(WOP_ERR_FORBIDDEN,
                     apiVersion + " " + kind + (ns.empty() ? "" : " in " + ns) +
                         " is not declared by this operator, so it is not cached for it");
  }
  for (const auto* watch : watches) {
    const auto& informer = watch->subscription.informer();
    if (!informer || !informer->hasSynced())
      return hostError(WOP_ERR_UNAVAILABLE, "cache not synced yet");
  }
  if (request.contains("name")) {
    const std::string name = common::stringField(request, "name");
    for (const auto* watch : watches) {
      const std::string key = ns.empty() || !watch->resource.namespaced ? name : ns + "/" + name;
      if (auto object = watch->subscription.informer()->store().get(key)) return object->json;
    }
    return hostError(WOP_ERR_NOT_FOUND, "not found");
  }
  auto selector = cache::LabelSelector::parse(selectorText);
  if (!selector) {
    return hostError(WOP_ERR_INVALID_ARGUMENT,
                     "cache read: labelSelector: " + selector.status().message());
  }
  // A list is answered from one watch whose store holds every object the selector can match.
  const ControllerWatch* source = nullptr;
  for (const auto* watch : watches) {
    if (watch->selector && selector->within(*watch->selector)) {
      source = watch;
      break;
    }
  }
  if (source == nullptr) {
    return hostError(WOP_ERR_FORBIDDEN, "no declared watch of " + kind + " covers the selector \"" +
                                            selectorText + "\"");
  }
  std::string out = "{\"items\":[";
  bool first = true;
  for (const auto& object : source->subscription.informer()->store().list(ns)) {
    if (!selector->matches(*object)) continue;
    if (!first) out += ',';
    first = false;
    out += object->json;
  }
  out += "]}";
  return out;
}

}  // namespace wop::runtime
