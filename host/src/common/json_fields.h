// Reading fields of JSON that came from outside (guests, files, the network) without
// exceptions: nlohmann's value() throws when a field exists with another type, which a hostile
// input would turn into a crash. These return the fallback instead.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace wop::common {

inline std::string stringField(const nlohmann::json& object, const char* key,
                               std::string fallback = "") {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

inline bool boolField(const nlohmann::json& object, const char* key, bool fallback = false) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

}  // namespace wop::common
