#include "runtime/declaration.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

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

static_assert(limits::kMaxIndexesPerOperator == WOP_MAX_INDEXES);
static_assert(limits::kMaxIndexNameBytes == WOP_MAX_INDEX_NAME_BYTES);
static_assert(limits::kMaxJsonPointerBytes == WOP_MAX_JSON_POINTER_BYTES);
static_assert(limits::kMaxIndexValueBytes == WOP_MAX_INDEX_VALUE_BYTES);
static_assert(limits::kMaxIndexValuesPerObject == WOP_MAX_INDEX_VALUES_PER_OBJECT);

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

common::Result<IndexDeclaration> parseIndex(const Json& json, const std::string& field) {
  if (!json.is_object()) return invalid(field, "must be an object");
  std::string apiVersion = text(json, "apiVersion");
  std::string kind = text(json, "kind");
  std::string name = text(json, "name");
  if (apiVersion.empty()) return invalid(field + ".apiVersion", "is required");
  if (kind.empty()) return invalid(field + ".kind", "is required");
  for (const auto& status : {kube::checkApiVersion(apiVersion), kube::checkKind(kind)}) {
    if (!status.isOk())
      return Status(StatusCode::kInvalidArgument, "declaration: " + field + "." + status.message());
  }
  if (!isIndexName(name)) {
    return invalid(field + ".name", "must be 1 to " + std::to_string(limits::kMaxIndexNameBytes) +
                                        " of A-Z a-z 0-9 . _ / : -");
  }
  using From = cache::IndexSpec::From;
  std::optional<std::pair<From, std::string>> extractor;
  for (auto [key, from] : {std::pair{WOP_INDEX_FROM_JSON_POINTER, From::kJsonPointer},
                           std::pair{WOP_INDEX_FROM_LABEL, From::kLabel},
                           std::pair{WOP_INDEX_FROM_ANNOTATION, From::kAnnotation}}) {
    auto it = json.find(key);
    if (it == json.end()) continue;
    if (!it->is_string()) return invalid(field + "." + key, "must be a string");
    if (extractor) break;  // a second one: refused below
    extractor.emplace(from, it->get<std::string>());
  }
  const int extractors = json.contains(WOP_INDEX_FROM_JSON_POINTER) +
                         json.contains(WOP_INDEX_FROM_LABEL) +
                         json.contains(WOP_INDEX_FROM_ANNOTATION);
  if (extractors != 1) {
    return invalid(field, "must have exactly one of \"" WOP_INDEX_FROM_JSON_POINTER
                          "\", \"" WOP_INDEX_FROM_LABEL "\" and \"" WOP_INDEX_FROM_ANNOTATION "\"");
  }
  auto spec = cache::IndexSpec::make(extractor->first, std::move(extractor->second));
  if (!spec) {
    return Status(StatusCode::kInvalidArgument, "declaration: " + field + "." +
                                                    cache::indexFromName(extractor->first) + ": " +
                                                    spec.status().message());
  }
  return IndexDeclaration{std::move(apiVersion), std::move(kind), std::move(name),
                          std::move(*spec)};
}

bool watchesKind(const ControllerDeclaration& declaration, const std::string& apiVersion,
                 const std::string& kind) {
  auto is = [&](const WatchDeclaration& w) { return w.apiVersion == apiVersion && w.kind == kind; };
  return is(declaration.primary) ||
         std::any_of(declaration.owns.begin(), declaration.owns.end(), is) ||
         std::any_of(declaration.watches.begin(), declaration.watches.end(), is);
}

// The same name on the same kind twice: fine if it names the same extractor.
Status checkIndexClash(const IndexDeclaration& a, const IndexDeclaration& b,
                       const std::string& field) {
  if (a.apiVersion != b.apiVersion || a.kind != b.kind || a.name != b.name || a.spec == b.spec)
    return Status::ok();
  return invalid(field, "declares index \"" + a.name + "\" of " + a.apiVersion + " " + a.kind +
                            " again with another extractor (" + a.spec.id() + ", then " +
                            b.spec.id() + ")");
}

Status parseIndexes(const Json& json, ControllerDeclaration& declaration) {
  auto list = json.find("indexes");
  if (list == json.end()) return Status::ok();
  if (!list->is_array()) return invalid("indexes", "must be an array");
  if (list->size() > limits::kMaxIndexesPerOperator)
    return invalid("indexes", "has more than " + std::to_string(WOP_MAX_INDEXES) + " entries");
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string field = "indexes[" + std::to_string(i) + "]";
    auto index = parseIndex((*list)[i], field);
    if (!index) return index.status();
    if (!watchesKind(declaration, index->apiVersion, index->kind)) {
      return invalid(field, "is on " + index->apiVersion + " " + index->kind +
                                ", which this controller does not watch");
    }
    for (const auto& earlier : declaration.indexes) {
      if (auto status = checkIndexClash(earlier, *index, field); !status.isOk()) return status;
    }
    declaration.indexes.push_back(std::move(*index));
  }
  return Status::ok();
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

bool isIndexName(std::string_view name) {
  if (name.empty() || name.size() > limits::kMaxIndexNameBytes) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '/' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

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
  if (auto status = parseIndexes(json, declaration); !status.isOk()) return status;
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

Status checkOperatorIndexes(const std::vector<ControllerDeclaration>& declared,
                            const ControllerDeclaration& next) {
  size_t total = next.indexes.size();
  for (const auto& controller : declared) total += controller.indexes.size();
  if (total > limits::kMaxIndexesPerOperator) {
    return Status(StatusCode::kResourceExhausted, "declaration: indexes: more than " +
                                                      std::to_string(WOP_MAX_INDEXES) +
                                                      " in all the operator's controllers");
  }
  for (size_t i = 0; i < next.indexes.size(); ++i) {
    for (const auto& controller : declared) {
      for (const auto& earlier : controller.indexes) {
        const std::string field = "indexes[" + std::to_string(i) + "]";
        if (auto status = checkIndexClash(earlier, next.indexes[i], field); !status.isOk())
          return status.withContext("beside controller " + controller.name);
      }
    }
  }
  return Status::ok();
}

}  // namespace wop::runtime
