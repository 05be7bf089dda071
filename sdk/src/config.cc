#include "wop/config.h"

namespace wop::sdk {

namespace {
const nlohmann::json* member(const nlohmann::json& json, std::string_view key) {
  if (!json.is_object()) return nullptr;
  auto it = json.find(key);
  return it == json.end() ? nullptr : &*it;
}
}  // namespace

std::string Config::string(std::string_view key, std::string_view fallback) const {
  auto value = member(json_, key);
  if (value == nullptr || !value->is_string()) return std::string(fallback);
  return value->get_ref<const std::string&>();
}

int64_t Config::integer(std::string_view key, int64_t fallback) const {
  auto value = member(json_, key);
  if (value == nullptr || !value->is_number_integer()) return fallback;
  return value->get<int64_t>();
}

bool Config::boolean(std::string_view key, bool fallback) const {
  auto value = member(json_, key);
  if (value == nullptr || !value->is_boolean()) return fallback;
  return value->get<bool>();
}

}  // namespace wop::sdk
