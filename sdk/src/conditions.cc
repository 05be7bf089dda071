#include "wop/conditions.h"

#include <optional>

#include "wop/object.h"

namespace wop::sdk {

namespace {

std::string_view stringOf(const json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_string() ? std::string_view(it->get_ref<const std::string&>())
                                               : std::string_view();
}

// The position of the condition of that type in conditions (an array).
std::optional<size_t> indexOf(const json& conditions, std::string_view type) {
  if (!conditions.is_array()) return std::nullopt;
  for (size_t i = 0; i < conditions.size(); ++i) {
    const json& entry = conditions[i];
    if (entry.is_object() && entry.contains("type") && stringOf(entry, "type") == type) return i;
  }
  return std::nullopt;
}

bool setField(json& condition, const char* field, const json& value) {
  auto it = condition.find(field);
  if (it != condition.end() && *it == value) return false;
  condition[field] = value;
  return true;
}

json newCondition(const Condition& condition, const Clock& clock) {
  json out = {{"type", condition.type}, {"status", condition.status}};
  if (condition.observedGeneration != 0) out["observedGeneration"] = condition.observedGeneration;
  out["lastTransitionTime"] = condition.lastTransitionTime.empty()
                                  ? formatRfc3339(clock.nowUnixNanos())
                                  : condition.lastTransitionTime;
  out["reason"] = condition.reason;
  out["message"] = condition.message;
  return out;
}

}  // namespace

const json* findStatusCondition(const json& conditions, std::string_view type) {
  auto index = indexOf(conditions, type);
  return index ? &conditions[*index] : nullptr;
}

bool setStatusCondition(json& conditions, const Condition& condition, const Clock& clock) {
  if (!conditions.is_array()) conditions = json::array();
  auto index = indexOf(conditions, condition.type);
  if (!index) {
    conditions.push_back(newCondition(condition, clock));
    return true;
  }
  json* existing = &conditions[*index];
  bool changed = false;
  if (stringOf(*existing, "status") != condition.status) {
    (*existing)["status"] = condition.status;
    (*existing)["lastTransitionTime"] = condition.lastTransitionTime.empty()
                                            ? formatRfc3339(clock.nowUnixNanos())
                                            : condition.lastTransitionTime;
    changed = true;
  }
  changed |= setField(*existing, "reason", condition.reason);
  changed |= setField(*existing, "message", condition.message);
  if (condition.observedGeneration != 0) {
    changed |= setField(*existing, "observedGeneration", condition.observedGeneration);
  } else if (existing->contains("observedGeneration")) {
    existing->erase("observedGeneration");
    changed = true;
  }
  return changed;
}

bool removeStatusCondition(json& conditions, std::string_view type) {
  auto index = indexOf(conditions, type);
  if (!index) return false;
  conditions.erase(*index);
  return true;
}

bool isStatusConditionPresentAndEqual(const json& conditions, std::string_view type,
                                      std::string_view status) {
  const json* found = findStatusCondition(conditions, type);
  return found != nullptr && found->contains("status") && stringOf(*found, "status") == status;
}

bool isStatusConditionTrue(const json& conditions, std::string_view type) {
  return isStatusConditionPresentAndEqual(conditions, type, kConditionTrue);
}

bool isStatusConditionFalse(const json& conditions, std::string_view type) {
  return isStatusConditionPresentAndEqual(conditions, type, kConditionFalse);
}

bool setCondition(json& object, Condition condition, const Clock& clock) {
  if (condition.observedGeneration == 0) {
    condition.observedGeneration = getInt(object, {"metadata", "generation"}).value_or(0);
  }
  if (!object.is_object()) object = json::object();
  auto& status = object["status"];
  if (!status.is_object()) status = json::object();
  return setStatusCondition(status["conditions"], condition, clock);
}

const json& conditionsOf(const json& object) {
  static const json kEmpty = json::array();
  auto conditions = fieldAt(object, {"status", "conditions"});
  return conditions != nullptr && conditions->is_array() ? *conditions : kEmpty;
}

}  // namespace wop::sdk
