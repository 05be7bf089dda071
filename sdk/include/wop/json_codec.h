// Typed objects to and from nlohmann::json, without exceptions and without aborting: a field of
// the wrong type (from the API server, a user, a newer Kubernetes) is an error naming its path,
// never a trap. Used by the generated Kubernetes types (wop/types/*.h), CustomResource
// (wop/custom_resource.h) and structs declared with WOP_JSON_FIELDS (wop/json_fields.h):
//
//   Decoded<corev1::ConfigMap> cm = fromJson<corev1::ConfigMap>(object);
//   if (!cm.ok()) co_return Result::error(cm.error());  // "data.x: expected string, got number"
//   if (cm->metadata.labels) cm->metadata.labels->erase("stale");
//   json written = toJson(*cm);  // fields the types do not know come back unchanged
//
// Rules: null or a missing field is "absent" (std::nullopt, or the default value of a field the
// schema requires); integers must be integers in range; keys a type does not know go to its
// `unknownFields` (a json object) and are written back by encodeJson, so a read-modify-write
// keeps them. A type plugs in with two overloads in its own namespace, found by ADL:
//   bool decodeJson(const json& in, T& out, DecodeError& error);  // false + error on failure
//   void encodeJson(json& out, const T& in);
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wop/kind.h"

namespace wop::sdk {

using nlohmann::json;

// Why and where decoding stopped: "spec.containers[0].ports[1].containerPort: expected integer
// (int32), got string". The path is built while the failure unwinds, so success costs nothing.
class DecodeError {
 public:
  // Records that `got` is not a `what`; returns false (`return error.expected(...)`).
  bool expected(std::string_view what, const json& got);
  // Prefix the path with a field, an array index or a map key; each returns false.
  bool inField(std::string_view name);
  bool atIndex(size_t index);
  bool atKey(std::string_view key);
  // "<path>: <reason>", or the reason alone at the top.
  std::string message() const;

 private:
  std::string path_;
  std::string reason_;
};

// ---- the building blocks
bool decodeJson(const json& in, std::string& out, DecodeError& error);
bool decodeJson(const json& in, bool& out, DecodeError& error);
bool decodeJson(const json& in, int32_t& out, DecodeError& error);
bool decodeJson(const json& in, int64_t& out, DecodeError& error);
bool decodeJson(const json& in, double& out, DecodeError& error);
// Any JSON at all (free-form fields such as FieldsV1, or a status left untyped).
inline bool decodeJson(const json& in, json& out, DecodeError& /*error*/) {
  out = in;
  return true;
}
inline void encodeJson(json& out, const std::string& in) { out = in; }
inline void encodeJson(json& out, bool in) { out = in; }
inline void encodeJson(json& out, int32_t in) { out = in; }
inline void encodeJson(json& out, int64_t in) { out = in; }
inline void encodeJson(json& out, double in) { out = in; }
inline void encodeJson(json& out, const json& in) { out = in; }

template <typename T>
bool decodeJson(const json& in, std::optional<T>& out, DecodeError& error) {
  if (in.is_null()) {
    out.reset();
    return true;
  }
  out.emplace();
  return decodeJson(in, *out, error);
}

template <typename T>
bool decodeJson(const json& in, std::vector<T>& out, DecodeError& error) {
  if (!in.is_array()) return error.expected("array", in);
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    out.emplace_back();
    if (!decodeJson(in[i], out.back(), error)) return error.atIndex(i);
  }
  return true;
}

template <typename T>
bool decodeJson(const json& in, std::map<std::string, T>& out, DecodeError& error) {
  if (!in.is_object()) return error.expected("object", in);
  out.clear();
  for (auto it = in.begin(); it != in.end(); ++it) {
    if (!decodeJson(*it, out[it.key()], error)) return error.atKey(it.key());
  }
  return true;
}

template <typename T>
void encodeJson(json& out, const std::optional<T>& in) {
  if (in) {
    encodeJson(out, *in);
  } else {
    out = nullptr;
  }
}

template <typename T>
void encodeJson(json& out, const std::vector<T>& in) {
  out = json::array();
  for (const auto& item : in) {
    out.push_back(json());
    encodeJson(out.back(), item);
  }
}

template <typename T>
void encodeJson(json& out, const std::map<std::string, T>& in) {
  out = json::object();
  for (const auto& [key, value] : in) encodeJson(out[key], value);
}

// ---- what object decoders and encoders are made of (the generated code, WOP_JSON_FIELDS)
namespace detail {

// A field's value: null is absent (the default value, or std::nullopt).
template <typename T>
bool decodeField(const json& in, T& out, DecodeError& error) {
  if (in.is_null()) {
    out = T{};
    return true;
  }
  return decodeJson(in, out, error);
}

// A key the type does not name: kept in its `unknownFields` if it has that member.
template <typename T>
void keepUnknown(T& out, const std::string& key, const json& value) {
  if constexpr (requires { out.unknownFields; }) out.unknownFields[key] = value;
}

// The start of an object's encoding: the fields its type did not know.
template <typename T>
json unknownFieldsOf(const T& in) {
  if constexpr (requires { in.unknownFields; }) {
    if (in.unknownFields.is_object()) return in.unknownFields;
  }
  return json::object();
}

template <typename T>
void encodeField(json& out, const char* name, const T& in) {
  encodeJson(out[name], in);
}

// An absent optional is left out (and replaces an unknown field of the same name).
template <typename T>
void encodeField(json& out, const char* name, const std::optional<T>& in) {
  if (in) {
    encodeJson(out[name], *in);
  } else {
    out.erase(name);
  }
}

}  // namespace detail

// ---- the entry points
// A decoded value or why it could not be decoded. On failure the value is T{}.
template <typename T>
class [[nodiscard]] Decoded {
 public:
  static Decoded of(T value) { return Decoded(std::move(value), {}); }
  static Decoded failure(std::string error) { return Decoded(T{}, std::move(error)); }

  bool ok() const { return error_.empty(); }
  // "<path>: <reason>"; "" when ok().
  const std::string& error() const { return error_; }
  T& value() & { return value_; }
  const T& value() const& { return value_; }
  T&& value() && { return std::move(value_); }
  T& operator*() & { return value_; }
  const T& operator*() const& { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }

 private:
  Decoded(T value, std::string error) : value_(std::move(value)), error_(std::move(error)) {}
  T value_;
  std::string error_;
};

template <typename T>
Decoded<T> fromJson(const json& in) {
  T value{};
  DecodeError error;
  if (!decodeJson(in, value, error)) return Decoded<T>::failure(error.message());
  return Decoded<T>::of(std::move(value));
}

// The JSON of `value`, its unknown fields included. For a kind (T::kKind), apiVersion and kind
// are written from kKind when the object has none, so a new object needs only its metadata.
template <typename T>
json toJson(const T& value) {
  json out;
  encodeJson(out, value);
  if constexpr (HasKind<T>) {
    if (out.is_object() && !out.contains("apiVersion")) out["apiVersion"] = T::kKind.apiVersion;
    if (out.is_object() && !out.contains("kind")) out["kind"] = T::kKind.kind;
  }
  return out;
}

namespace detail {
// For WOP_CO_TRY / WOP_CO_CHECK (wop/try.h).
template <typename T>
std::optional<std::string> tryError(const Decoded<T>& decoded) {
  if (decoded.ok()) return std::nullopt;
  return decoded.error();
}
}  // namespace detail

}  // namespace wop::sdk
