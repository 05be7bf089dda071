// Status conditions (metav1.Condition in status.conditions) with the semantics of
// k8s.io/apimachinery's meta.SetStatusCondition and friends, on nlohmann::json:
//
//   setCondition(*obj, {.type = "Ready", .status = "True", .reason = "Copied",
//                       .message = "copied to 3 namespaces"});      // observedGeneration: its own
//   co_await ctx.client.applyStatus(*obj, "replicator");
//
// lastTransitionTime changes only when the status changes (True/False/Unknown), so a reader can
// tell how long a condition has held; reason, message and observedGeneration are updated in
// place. Pure functions: the only outside input is the clock, injected for tests.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "wop/clock.h"

namespace wop::sdk {

using nlohmann::json;

inline constexpr const char* kConditionTrue = "True";
inline constexpr const char* kConditionFalse = "False";
inline constexpr const char* kConditionUnknown = "Unknown";

// Every field has a default, so designated initializers may leave any out (guest code is
// built with -Wextra -Werror, which would flag a field left out that had none).
struct Condition {
  std::string type{};     // "Ready", "Progressing": UpperCamelCase, unique within the list
  std::string status{};   // kConditionTrue, kConditionFalse or kConditionUnknown
  std::string reason{};   // UpperCamelCase, required by metav1.Condition
  std::string message{};  // for humans; may be empty
  // The metadata.generation the condition was computed from; 0: not set (omitted).
  int64_t observedGeneration = 0;
  // RFC 3339; "" means "now" when the condition is added or its status changes.
  std::string lastTransitionTime{};
};

// `conditions` is a status.conditions array (null or any non-array is taken as empty and made
// an array). Adds the condition or updates the one of its type; returns whether anything
// changed. lastTransitionTime: the condition's if given, else now, and only on a change of
// status (or when added).
bool setStatusCondition(json& conditions, const Condition& condition,
                        const Clock& clock = systemClock());
// The condition of that type, or null. Entries that are not objects are skipped.
const json* findStatusCondition(const json& conditions, std::string_view type);
// Removes the condition of that type; returns whether there was one.
bool removeStatusCondition(json& conditions, std::string_view type);
bool isStatusConditionTrue(const json& conditions, std::string_view type);
bool isStatusConditionFalse(const json& conditions, std::string_view type);
bool isStatusConditionPresentAndEqual(const json& conditions, std::string_view type,
                                      std::string_view status);

// setStatusCondition on object.status.conditions (created as needed), with observedGeneration
// defaulting to the object's metadata.generation: what a reconciler of `object` usually means.
bool setCondition(json& object, Condition condition, const Clock& clock = systemClock());
// The object's status.conditions, or an empty array.
const json& conditionsOf(const json& object);

}  // namespace wop::sdk
