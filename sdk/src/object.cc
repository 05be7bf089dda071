#include "wop/object.h"

#include <algorithm>

namespace wop::sdk {

namespace {

const std::string* stringAt(const json& object, std::initializer_list<std::string_view> path) {
  auto value = fieldAt(object, path);
  return value != nullptr && value->is_string() ? &value->get_ref<const std::string&>() : nullptr;
}

std::string stringOr(const json& object, std::initializer_list<std::string_view> path) {
  auto value = stringAt(object, path);
  return value ? *value : std::string();
}

// metadata[field] as an object, created if missing (replacing a non-object).
json& metadataMap(json& object, const char* field) {
  if (!object.is_object()) object = json::object();
  auto& metadata = object["metadata"];
  if (!metadata.is_object()) metadata = json::object();
  auto& map = metadata[field];
  if (!map.is_object()) map = json::object();
  return map;
}

}  // namespace

const json* fieldAt(const json& object, std::initializer_list<std::string_view> path) {
  const json* current = &object;
  for (auto key : path) {
    if (!current->is_object()) return nullptr;
    auto it = current->find(key);
    if (it == current->end()) return nullptr;
    current = &*it;
  }
  return current;
}

std::optional<std::string> getString(const json& object,
                                     std::initializer_list<std::string_view> path) {
  auto value = stringAt(object, path);
  if (value == nullptr) return std::nullopt;
  return *value;
}

std::optional<int64_t> getInt(const json& object, std::initializer_list<std::string_view> path) {
  auto value = fieldAt(object, path);
  if (value == nullptr || !value->is_number_integer()) return std::nullopt;
  return value->get<int64_t>();
}

std::string nameOf(const json& object) { return stringOr(object, {"metadata", "name"}); }
std::string namespaceOf(const json& object) { return stringOr(object, {"metadata", "namespace"}); }
std::string uidOf(const json& object) { return stringOr(object, {"metadata", "uid"}); }
std::string resourceVersionOf(const json& object) {
  return stringOr(object, {"metadata", "resourceVersion"});
}

std::string keyOf(const json& object) {
  auto ns = namespaceOf(object);
  return ns.empty() ? nameOf(object) : ns + "/" + nameOf(object);
}

std::optional<std::string> label(const json& object, std::string_view key) {
  auto labels = fieldAt(object, {"metadata", "labels"});
  return labels ? getString(*labels, {key}) : std::nullopt;
}

std::optional<std::string> annotation(const json& object, std::string_view key) {
  auto annotations = fieldAt(object, {"metadata", "annotations"});
  return annotations ? getString(*annotations, {key}) : std::nullopt;
}

void setLabel(json& object, std::string_view key, std::string_view value) {
  metadataMap(object, "labels")[std::string(key)] = value;
}

void setAnnotation(json& object, std::string_view key, std::string_view value) {
  metadataMap(object, "annotations")[std::string(key)] = value;
}

bool isBeingDeleted(const json& object) {
  auto timestamp = fieldAt(object, {"metadata", "deletionTimestamp"});
  return timestamp != nullptr && !timestamp->is_null();
}

bool hasFinalizer(const json& object, std::string_view finalizer) {
  auto finalizers = fieldAt(object, {"metadata", "finalizers"});
  if (finalizers == nullptr || !finalizers->is_array()) return false;
  return std::any_of(finalizers->begin(), finalizers->end(), [&](const json& entry) {
    return entry.is_string() && entry.get_ref<const std::string&>() == finalizer;
  });
}

bool addFinalizer(json& object, std::string_view finalizer) {
  if (hasFinalizer(object, finalizer)) return false;
  if (!object.is_object()) object = json::object();
  auto& metadata = object["metadata"];
  if (!metadata.is_object()) metadata = json::object();
  auto& finalizers = metadata["finalizers"];
  if (!finalizers.is_array()) finalizers = json::array();
  finalizers.push_back(finalizer);
  return true;
}

bool removeFinalizer(json& object, std::string_view finalizer) {
  if (!hasFinalizer(object, finalizer)) return false;
  json& finalizers = object["metadata"]["finalizers"];
  json kept = json::array();
  for (auto& entry : finalizers) {
    if (!(entry.is_string() && entry.get_ref<const std::string&>() == finalizer)) {
      kept.push_back(std::move(entry));
    }
  }
  finalizers = std::move(kept);
  return true;
}

json finalizersPatch(const json& object) {
  auto finalizers = fieldAt(object, {"metadata", "finalizers"});
  json metadata = {
      {"finalizers", finalizers && finalizers->is_array() ? *finalizers : json::array()}};
  auto resourceVersion = resourceVersionOf(object);
  if (!resourceVersion.empty()) metadata["resourceVersion"] = resourceVersion;
  return {{"metadata", std::move(metadata)}};
}

json ownerReference(const json& owner, bool controller) {
  json reference = {{"apiVersion", stringOr(owner, {"apiVersion"})},
                    {"kind", stringOr(owner, {"kind"})},
                    {"name", nameOf(owner)},
                    {"uid", uidOf(owner)}};
  if (controller) {
    reference["controller"] = true;
    reference["blockOwnerDeletion"] = true;
  }
  return reference;
}

std::optional<json> controllerOf(const json& object) {
  auto references = fieldAt(object, {"metadata", "ownerReferences"});
  if (references == nullptr || !references->is_array()) return std::nullopt;
  for (const auto& reference : *references) {
    auto controller = fieldAt(reference, {"controller"});
    if (controller != nullptr && controller->is_boolean() && controller->get<bool>()) {
      return reference;
    }
  }
  return std::nullopt;
}

bool setControllerReference(const json& owner, json& child) {
  auto reference = ownerReference(owner, /*controller=*/true);
  if (reference["name"].get_ref<const std::string&>().empty() ||
      reference["uid"].get_ref<const std::string&>().empty()) {
    return false;
  }
  auto ownerNamespace = namespaceOf(owner);
  if (!ownerNamespace.empty() && ownerNamespace != namespaceOf(child)) return false;
  if (auto existing = controllerOf(child)) {
    return getString(*existing, {"uid"}) == uidOf(owner);  // already ours: nothing to do
  }
  if (!child.is_object()) return false;
  auto& metadata = child["metadata"];
  if (!metadata.is_object()) metadata = json::object();
  auto& references = metadata["ownerReferences"];
  if (!references.is_array()) references = json::array();
  references.push_back(std::move(reference));
  return true;
}

}  // namespace wop::sdk
