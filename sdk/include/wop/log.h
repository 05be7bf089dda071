// Logging through the host (wop_log): one line per call, attributed to the operator by the
// host, truncated at WOP_MAX_LOG_BYTES.
//
//   log::info("copied %s to %zu namespaces", key.c_str(), count);
//   log::warn(response.errorMessage());
#pragma once

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

}  // namespace wop::sdk::log
