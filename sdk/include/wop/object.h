// Helpers for Kubernetes objects as nlohmann::json: safe field reads (never throw, never
// abort), finalizers, owner references. Pure functions: no host calls.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace wop::sdk {

using nlohmann::json;

// The value at a path of object keys, or null if any step is missing or not an object.
const json* fieldAt(const json& object, std::initializer_list<std::string_view> path);
std::optional<std::string> getString(const json& object,
                                     std::initializer_list<std::string_view> path);
std::optional<int64_t> getInt(const json& object, std::initializer_list<std::string_view> path);

std::string nameOf(const json& object);
std::string namespaceOf(const json& object);
std::string uidOf(const json& object);
std::string resourceVersionOf(const json& object);
// "namespace/name" (or "name" when cluster-scoped): the key a reconcile gets.
std::string keyOf(const json& object);
std::optional<std::string> label(const json& object, std::string_view key);
std::optional<std::string> annotation(const json& object, std::string_view key);
// Sets metadata.{labels,annotations}[key] (creating the maps as needed).
void setLabel(json& object, std::string_view key, std::string_view value);
void setAnnotation(json& object, std::string_view key, std::string_view value);

// ---- deletion and finalizers
// True once the API server has set metadata.deletionTimestamp (finalizers still pending).
bool isBeingDeleted(const json& object);
bool hasFinalizer(const json& object, std::string_view finalizer);
// Edit metadata.finalizers in place; return whether anything changed.
bool addFinalizer(json& object, std::string_view finalizer);
bool removeFinalizer(json& object, std::string_view finalizer);
// A merge patch that sets metadata.finalizers to the object's list, guarded by its
// resourceVersion (so a concurrent change of the list fails with 409 instead of being lost).
json finalizersPatch(const json& object);

// ---- owner references
// A reference to `object` for ownerReferences/involvedObject (apiVersion, kind, name, uid).
json ownerReference(const json& owner, bool controller);
// Makes `owner` the controller of `child` (controller=true, blockOwnerDeletion=true), like
// controller-runtime's SetControllerReference. Returns false, leaving child unchanged, if the
// child already has another controller or the owner lacks a name or uid, or the namespaces
// differ (a namespaced child cannot be owned across namespaces).
bool setControllerReference(const json& owner, json& child);
// The controller ownerReference of `object`, if any.
std::optional<json> controllerOf(const json& object);

}  // namespace wop::sdk
