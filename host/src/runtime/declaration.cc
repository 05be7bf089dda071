#include "runtime/declaration.h"

#include <nlohmann/json.hpp>

#include "common/json_depth.h"
#include "common/limits.h"
#include "kube/api_names.h"
#include "wop_abi.h"

namespace wop::runtime {
namespace {

using common::Status;
using common::StatusCode;
using Json = nlohmann::json;

constexpr int kMaxConcurrentReconciles = 64;
constexpr int kMaxWatchesPerController = 16;

Status invalid(const std::string& field, const std::string& what) {
  return Status(StatusCode::kInvalidArgument, "declaration: " + field + " " + what);
}

std::string text(const Json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

common::Result<WatchDeclaration> parseWatch(const Json& json, const std::string& field,
                                            MapTo defaultMap) {
  if (!json.is_object()) return invalid(field, "must be an object");
  WatchDeclaration watch;
  watch.apiVersion = text(json, "apiVersion");
  watch.kind = text(json, "kind");
  watch.ns = text(json, "namespace");
  watch.labelSelector = text(json, "labelSelector");
  watch.mapTo = defaultMap;
  if (watch.apiVersion.empty()) return invalid(field + ".apiVersion", "is required");
  if (watch.kind.empty()) return invalid(field + ".kind", "is required");
  // The informers build URLs from these (kube/api_names.h says why and what is allowed).
  for (const auto& status :
       {kube::checkApiVersion(watch.apiVersion), kube::checkKind(watch.kind),
        kube::checkNamespace(watch.ns), kube::checkLabelSelector(watch.labelSelector)}) {
    if (!status.isOk())
      return Status(StatusCode::kInvalidArgument, "declaration: " + field + "." + status.message());
  }
  if (auto mapTo = json.find("mapTo"); mapTo != json.end()) {
    const std::string value = mapTo->is_string() ? mapTo->get<std::string>() : "";
    if (value == WOP_MAP_TO_SELF)
      watch.mapTo = MapTo::kSelf;
    else if (value == WOP_MAP_TO_OWNER)
      watch.mapTo = MapTo::kOwner;
    else if (value == WOP_MAP_TO_FUNCTION)
      watch.mapTo = MapTo::kFunction;
    else if (value == WOP_MAP_TO_NONE)
      watch.mapTo = MapTo::kNone;
    else
      return invalid(field + ".mapTo",
                     "must be \"" WOP_MAP_TO_SELF "\", \"" WOP_MAP_TO_OWNER
                     "\", \"" WOP_MAP_TO_FUNCTION "\" or \"" WOP_MAP_TO_NONE "\"");
  }
  if (auto predicates = json.find("predicates"); predicates != json.end()) {
    if (!predicates->is_array()) return invalid(field + ".predicates", "must be an array of names");
    for (const auto& name : *predicates) {
      if (!name.is_string()) return invalid(field + ".predicates", "must be an array of names");
      watch.predicates.push_back(name.get<std::string>());
    }
  }
  return watch;
}

Status parseList(const Json& json, const char* field, MapTo defaultMap,
                 std::vector<WatchDeclaration>& out) {
  auto list = json.find(field);
  if (list == json.end()) return Status::ok();
  if (!list->is_array()) return invalid(field, "must be an array");
  if (list->size() > kMaxWatchesPerController) return invalid(field, "has too many entries");
  for (size_t i = 0; i < list->size(); ++i) {
    auto watch =
        parseWatch((*list)[i], std::string(field) + "[" + std::to_string(i) + "]", defaultMap);
    if (!watch) return watch.status();
    out.push_back(std::move(*watch));
  }
  return Status::ok();
}

}  // namespace

common::Result<ControllerDeclaration> parseDeclaration(std::string_view text_) {
  if (!common::jsonDepthWithin(text_, limits::kMaxGuestJsonDepth)) {
    return invalid("",
                   "nests deeper than " + std::to_string(limits::kMaxGuestJsonDepth) + " levels");
  }
  auto json = Json::parse(text_, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return invalid("", "is not a JSON object");
  ControllerDeclaration declaration;
  declaration.name = text(json, "name");
  if (declaration.name.empty()) return invalid("name", "is required");
  auto primary = json.find("for");
  if (primary == json.end()) return invalid("for", "is required");
  auto watch = parseWatch(*primary, "for", MapTo::kSelf);
  if (!watch) return watch.status();
  declaration.primary = std::move(*watch);
  if (auto status = parseList(json, "owns", MapTo::kOwner, declaration.owns); !status.isOk())
    return status;
  for (auto& owned : declaration.owns) owned.mapTo = MapTo::kOwner;
  if (auto status = parseList(json, "watches", MapTo::kSelf, declaration.watches); !status.isOk())
    return status;
  if (auto it = json.find("maxConcurrentReconciles"); it != json.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 ||
        it->get<int64_t>() > kMaxConcurrentReconciles) {
      return invalid("maxConcurrentReconciles", "must be an integer from 1 to 64");
    }
    declaration.maxConcurrentReconciles = it->get<int>();
  }
  if (auto it = json.find("resyncSeconds"); it != json.end()) {
    // Checked before the narrowing to int; the period is computed in milliseconds.
    if (!it->is_number_integer() || it->get<int64_t>() < 0 ||
        it->get<int64_t>() > WOP_MAX_RESYNC_SECONDS) {
      return invalid("resyncSeconds",
                     "must be an integer from 0 to " + std::to_string(WOP_MAX_RESYNC_SECONDS));
    }
    declaration.resyncSeconds = it->get<int>();
  }
  return declaration;
}

}  // namespace wop::runtime
