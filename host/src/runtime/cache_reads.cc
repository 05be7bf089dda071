#include "runtime/cache_reads.h"

#include <nlohmann/json.hpp>

#include "cache/label_selector.h"
#include "common/json_depth.h"
#include "common/json_fields.h"
#include "common/limits.h"
#include "kube/api_names.h"
#include "runtime/declaration.h"

namespace wop::runtime {
using hostcalls::hostError;

namespace {

using common::Status;
using hostcalls::HostCallError;
using Json = nlohmann::json;

std::string itemsJson(const std::vector<cache::ObjectPtr>& objects,
                      const cache::LabelSelector& selector) {
  std::string out = "{\"items\":[";
  bool first = true;
  for (const auto& object : objects) {
    if (!selector.matches(*object)) continue;
    if (!first) out += ',';
    first = false;
    out += object->json;
  }
  out += "]}";
  return out;
}

// The selector whose objects a read by index can return: the request's, and for an index on a
// label also that label's value (so a watch selecting on the label covers the read).
common::Result<cache::LabelSelector> coveredSelector(const std::string& selectorText,
                                                     const cache::IndexSpec& spec,
                                                     const std::string& value) {
  if (spec.from() != cache::IndexSpec::From::kLabel)
    return cache::LabelSelector::parse(selectorText);
  return cache::LabelSelector::parse(selectorText + (selectorText.empty() ? "" : ",") +
                                     spec.argument() + "=" + value);
}

// {"index", "value"}: controller-runtime's MatchingFields, answered from a watch of the kind
// that carries the index and holds every object the request's selector can match.
hostcalls::HostResult<std::string> readByIndex(const std::vector<const ControllerWatch*>& watches,
                                               const Json& request, const std::string& kind,
                                               const std::string& ns,
                                               const std::string& selectorText,
                                               const cache::LabelSelector& selector) {
  auto index = request.find("index");
  auto value = request.find("value");
  // Checked before it goes into a message.
  if (!index->is_string() || !isIndexName(index->get_ref<const std::string&>()))
    return hostError(WOP_ERR_INVALID_ARGUMENT, "cache read: index must be a declared index's name");
  if (value == request.end() || !value->is_string())
    return hostError(WOP_ERR_INVALID_ARGUMENT, "cache read: value must be a string");
  const std::string& name = index->get_ref<const std::string&>();
  const std::string& wanted = value->get_ref<const std::string&>();
  if (wanted.size() > limits::kMaxIndexValueBytes) {
    return hostError(WOP_ERR_INVALID_ARGUMENT, "cache read: value is longer than " +
                                                   std::to_string(limits::kMaxIndexValueBytes) +
                                                   " bytes (never indexed)");
  }
  const cache::IndexSpec* spec = nullptr;
  for (const auto* watch : watches) {
    if ((spec = watch->index(name)) != nullptr) break;
  }
  if (spec == nullptr) {
    return hostError(WOP_ERR_INVALID_ARGUMENT,
                     "cache read: this operator declared no index \"" + name + "\" on " + kind);
  }
  // No label has a value that is not a label value: nothing can match.
  if (spec->from() == cache::IndexSpec::From::kLabel && !cache::isLabelValue(wanted))
    return std::string("{\"items\":[]}");
  auto covered = coveredSelector(selectorText, *spec, wanted);
  const ControllerWatch* source = nullptr;
  for (const auto* watch : watches) {
    if (watch->index(name) && watch->selector && covered && covered->within(*watch->selector)) {
      source = watch;
      break;
    }
  }
  if (source == nullptr) {
    return hostError(WOP_ERR_FORBIDDEN, "no declared watch of " + kind + " with index \"" + name +
                                            "\" covers the selector \"" + selectorText + "\"");
  }
  auto objects = source->subscription.byIndex(*spec, wanted, ns);
  if (!objects) return hostError(WOP_ERR_UNAVAILABLE, "index \"" + name + "\" is not built yet");
  return itemsJson(*objects, selector);
}

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
  if (request.contains("index") && request.contains("name"))
    return hostError(WOP_ERR_INVALID_ARGUMENT, "cache read: \"index\" and \"name\" together");
  if (request.contains("name")) {
    const std::string name = common::stringField(request, "name");
    for (const auto* watch : watches) {
      const std::string key = ns.empty() || !watch->resource.namespaced ? name : ns + "/" + name;
      if (auto object = watch->subscription.get(key)) return object->json;
    }
    return hostError(WOP_ERR_NOT_FOUND, "not found");
  }
  auto selector = cache::LabelSelector::parse(selectorText);
  if (!selector) {
    return hostError(WOP_ERR_INVALID_ARGUMENT,
                     "cache read: labelSelector: " + selector.status().message());
  }
  if (request.contains("index"))
    return readByIndex(watches, request, kind, ns, selectorText, *selector);
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
  return itemsJson(source->subscription.list(ns), *selector);
}

}  // namespace wop::runtime
