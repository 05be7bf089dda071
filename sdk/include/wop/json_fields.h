// WOP_JSON_FIELDS(Type, field...): decodeJson/encodeJson (wop/json_codec.h) for a struct of
// your own, such as the spec and status of a CustomResource:
//
//   struct BackupSpec {
//     std::string schedule;                   // required: absent decodes as ""
//     std::optional<int32_t> keep;            // optional: absent is std::nullopt, not written
//     std::vector<std::string> targets;
//     json unknownFields;                     // optional member: keeps fields you did not name
//   };
//   WOP_JSON_FIELDS(BackupSpec, schedule, keep, targets)
//
// Use it at namespace scope, in the struct's namespace (ADL finds the overloads there). JSON
// keys are the member names. Members may be any type with decodeJson/encodeJson: strings,
// bool, int32_t, int64_t, double, json, IntOrString, std::optional/vector/map<string, ...>
// of those, generated types and other WOP_JSON_FIELDS structs. Unlike nlohmann's
// NLOHMANN_DEFINE_TYPE_* macros, a missing or wrong-typed field never aborts (those call
// `at()` and `get<T>()`, which abort under -fno-exceptions): it is an error with its path.
// Without an `unknownFields` member, keys not named are dropped on a round trip.
#pragma once

#include <string>

#include "wop/json_codec.h"

// C++20 __VA_OPT__ recursion: applies `macro` to each argument (up to 256).
#define WOP_JSON_PARENS ()
#define WOP_JSON_EXPAND(...) WOP_JSON_EXPAND4(WOP_JSON_EXPAND4(WOP_JSON_EXPAND4(__VA_ARGS__)))
#define WOP_JSON_EXPAND4(...) WOP_JSON_EXPAND3(WOP_JSON_EXPAND3(WOP_JSON_EXPAND3(__VA_ARGS__)))
#define WOP_JSON_EXPAND3(...) WOP_JSON_EXPAND2(WOP_JSON_EXPAND2(WOP_JSON_EXPAND2(__VA_ARGS__)))
#define WOP_JSON_EXPAND2(...) WOP_JSON_EXPAND1(WOP_JSON_EXPAND1(WOP_JSON_EXPAND1(__VA_ARGS__)))
#define WOP_JSON_EXPAND1(...) __VA_ARGS__
#define WOP_JSON_FOR_EACH(macro, ...) \
  __VA_OPT__(WOP_JSON_EXPAND(WOP_JSON_FOR_EACH_STEP(macro, __VA_ARGS__)))
#define WOP_JSON_FOR_EACH_STEP(macro, first, ...) \
  macro(first) __VA_OPT__(WOP_JSON_FOR_EACH_AGAIN WOP_JSON_PARENS(macro, __VA_ARGS__))
#define WOP_JSON_FOR_EACH_AGAIN() WOP_JSON_FOR_EACH_STEP

#define WOP_JSON_DECODE_FIELD(field)                                                        \
  if (key == #field) {                                                                      \
    if (!::wop::sdk::detail::decodeField(*it, out.field, error)) return error.inField(key); \
    continue;                                                                               \
  }
#define WOP_JSON_ENCODE_FIELD(field) ::wop::sdk::detail::encodeField(out, #field, in.field);

#define WOP_JSON_FIELDS(Type, ...)                                                 \
  [[maybe_unused]] inline bool decodeJson(const ::nlohmann::json& in, Type& out,   \
                                          ::wop::sdk::DecodeError& error) {        \
    if (!in.is_object()) return error.expected("object", in);                      \
    for (auto it = in.begin(); it != in.end(); ++it) {                             \
      const std::string& key = it.key();                                           \
      WOP_JSON_FOR_EACH(WOP_JSON_DECODE_FIELD, __VA_ARGS__)                        \
      ::wop::sdk::detail::keepUnknown(out, key, *it);                              \
    }                                                                              \
    return true;                                                                   \
  }                                                                                \
  [[maybe_unused]] inline void encodeJson(::nlohmann::json& out, const Type& in) { \
    out = ::wop::sdk::detail::unknownFieldsOf(in);                                 \
    WOP_JSON_FOR_EACH(WOP_JSON_ENCODE_FIELD, __VA_ARGS__)                          \
  }
