// IntOrString: a field that holds an integer or a string (intstr.IntOrString), such as a port
// given by number or by name (`targetPort: 8080` or `targetPort: "http"`).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include "wop/json_codec.h"

namespace wop::sdk {

class IntOrString {
 public:
  // Implicit, so that `port = 8080` and `port = "http"` read as in YAML.
  IntOrString() = default;
  IntOrString(int32_t number) : value_(number) {}
  IntOrString(std::string text) : value_(std::move(text)) {}
  IntOrString(const char* text) : value_(std::string(text)) {}

  bool isInt() const { return std::holds_alternative<int32_t>(value_); }
  // The integer, or 0 when it is a string.
  int32_t intValue() const { return isInt() ? std::get<int32_t>(value_) : 0; }
  // The string, or "" when it is an integer.
  std::string stringValue() const {
    return isInt() ? std::string() : std::get<std::string>(value_);
  }
  bool operator==(const IntOrString&) const = default;

 private:
  std::variant<int32_t, std::string> value_;
};

inline bool decodeJson(const json& in, IntOrString& out, DecodeError& error) {
  if (in.is_string()) {
    out = IntOrString(in.get_ref<const std::string&>());
    return true;
  }
  int32_t number = 0;
  if (!in.is_number_integer()) return error.expected("integer or string", in);
  if (!decodeJson(in, number, error)) return false;
  out = IntOrString(number);
  return true;
}

inline void encodeJson(json& out, const IntOrString& in) {
  if (in.isInt()) {
    out = in.intValue();
  } else {
    out = in.stringValue();
  }
}

}  // namespace wop::sdk
