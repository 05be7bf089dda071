// Config: the operator's configuration (the `config` of its definition, via wop_config_get),
// with typed reads that fall back to a default instead of failing.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace wop::sdk {

class Config {
 public:
  Config() = default;
  explicit Config(nlohmann::json json) : json_(std::move(json)) {}

  std::string string(std::string_view key, std::string_view fallback = "") const;
  int64_t integer(std::string_view key, int64_t fallback = 0) const;
  bool boolean(std::string_view key, bool fallback = false) const;
  const nlohmann::json& json() const { return json_; }

 private:
  nlohmann::json json_ = nlohmann::json::object();
};

}  // namespace wop::sdk
