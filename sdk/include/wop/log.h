// Logging through the host (wop_log): one line per call, attributed to the operator by the
// host, truncated at WOP_MAX_LOG_BYTES.
//
//   log::info("copied %s to %zu namespaces", key.c_str(), count);     // printf-style
//   log::warn(response.errorMessage());                                // a string
//   log::info("copied", {{"namespace", ns}, {"name", name}, {"copies", 3}});  // key=value
//
// The key/value form writes logfmt after the message: `copied namespace=a name=b copies=3`,
// values quoted when empty or when they hold a space, a quote, '=', a backslash or a control
// character (inside quotes \" \\ \n \r \t, other controls \xNN), so a value can neither split
// the line nor forge a key. Keys keep [A-Za-z0-9_.-/]; any other byte becomes '_'.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace wop::sdk::log {

void write(int level, std::string_view message);

void debug(std::string_view message);
void info(std::string_view message);
void warn(std::string_view message);
void error(std::string_view message);

void debug(const char* format, ...) __attribute__((format(printf, 1, 2)));
void info(const char* format, ...) __attribute__((format(printf, 1, 2)));
void warn(const char* format, ...) __attribute__((format(printf, 1, 2)));
void error(const char* format, ...) __attribute__((format(printf, 1, 2)));

// One key=value of a structured line; the value is rendered when the Field is made, so a
// Field owns its text and refers to nothing but its key (keep keys literals or outliving it).
struct Field {
  Field(std::string_view key, std::string_view value) : key(key), value(value) {}
  Field(std::string_view key, const char* value) : key(key), value(value ? value : "") {}
  Field(std::string_view key, const std::string& value) : key(key), value(value) {}
  Field(std::string_view key, bool value) : key(key), value(value ? "true" : "false") {}
  template <std::integral T>
    requires(!std::same_as<T, bool>)
  Field(std::string_view key, T value) : key(key), value(std::to_string(value)) {}
  Field(std::string_view key, double value);

  std::string_view key;
  std::string value;
};

void debug(std::string_view message, std::initializer_list<Field> fields);
void info(std::string_view message, std::initializer_list<Field> fields);
void warn(std::string_view message, std::initializer_list<Field> fields);
void error(std::string_view message, std::initializer_list<Field> fields);
// For a literal message: without these, log::info("copied", {...}) would be ambiguous with the
// printf-style overload.
inline void debug(const char* message, std::initializer_list<Field> fields) {
  debug(std::string_view(message), fields);
}
inline void info(const char* message, std::initializer_list<Field> fields) {
  info(std::string_view(message), fields);
}
inline void warn(const char* message, std::initializer_list<Field> fields) {
  warn(std::string_view(message), fields);
}
inline void error(const char* message, std::initializer_list<Field> fields) {
  error(std::string_view(message), fields);
}

// The line the key/value form writes.
std::string withFields(std::string_view message, std::initializer_list<Field> fields);

}  // namespace wop::sdk::log
