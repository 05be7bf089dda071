#include "wop/json_codec.h"

#include <limits>

namespace wop::sdk {

namespace {

const char* typeName(const json& value) {
  if (value.is_number_integer()) return "integer";
  if (value.is_number_float()) return "number";
  return value.type_name();  // "null", "object", "array", "string", "boolean", ...
}

}  // namespace

bool DecodeError::expected(std::string_view what, const json& got) {
  reason_ = "expected " + std::string(what) + ", got " + typeName(got);
  return false;
}

bool DecodeError::inField(std::string_view name) {
  path_.insert(0, "." + std::string(name));
  return false;
}

bool DecodeError::atIndex(size_t index) {
  path_.insert(0, "[" + std::to_string(index) + "]");
  return false;
}

bool DecodeError::atKey(std::string_view key) {
  path_.insert(0, "[\"" + std::string(key) + "\"]");
  return false;
}

std::string DecodeError::message() const {
  if (path_.empty()) return reason_;
  return (path_[0] == '.' ? path_.substr(1) : path_) + ": " + reason_;
}

bool decodeJson(const json& in, std::string& out, DecodeError& error) {
  if (!in.is_string()) return error.expected("string", in);
  out = in.get_ref<const std::string&>();
  return true;
}

bool decodeJson(const json& in, bool& out, DecodeError& error) {
  if (!in.is_boolean()) return error.expected("boolean", in);
  out = in.get<bool>();
  return true;
}

bool decodeJson(const json& in, int64_t& out, DecodeError& error) {
  if (in.is_number_unsigned()) {
    if (in.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return error.expected("integer (int64)", in);
    }
    out = static_cast<int64_t>(in.get<uint64_t>());
    return true;
  }
  if (!in.is_number_integer()) return error.expected("integer", in);
  out = in.get<int64_t>();
  return true;
}

bool decodeJson(const json& in, int32_t& out, DecodeError& error) {
  int64_t wide = 0;
  if (!decodeJson(in, wide, error)) return false;
  if (wide < std::numeric_limits<int32_t>::min() || wide > std::numeric_limits<int32_t>::max()) {
    return error.expected("integer (int32)", in);
  }
  out = static_cast<int32_t>(wide);
  return true;
}

bool decodeJson(const json& in, double& out, DecodeError& error) {
  if (!in.is_number()) return error.expected("number", in);
  out = in.get<double>();
  return true;
}

}  // namespace wop::sdk
