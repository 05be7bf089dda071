#include "wop/log.h"

#include <cstdarg>
#include <cstdio>
#include <string>

#include "wop/host.h"

namespace wop::sdk::log {

namespace {

void vwrite(int level, const char* format, va_list args) {
  char line[1024];
  va_list copy;
  va_copy(copy, args);
  int length = std::vsnprintf(line, sizeof line, format, args);
  if (length < 0) {
    va_end(copy);
    return write(level, format);
  }
  if (static_cast<size_t>(length) < sizeof line) {
    va_end(copy);
    return write(level, std::string_view(line, length));
  }
  std::string longLine(static_cast<size_t>(length) + 1, '\0');
  std::vsnprintf(longLine.data(), longLine.size(), format, copy);
  va_end(copy);
  longLine.pop_back();
  write(level, longLine);
}

}  // namespace

void write(int level, std::string_view message) {
  if (auto host = detail::host()) host->log(level, message);
}

void debug(std::string_view message) { write(WOP_LOG_DEBUG, message); }
void info(std::string_view message) { write(WOP_LOG_INFO, message); }
void warn(std::string_view message) { write(WOP_LOG_WARN, message); }
void error(std::string_view message) { write(WOP_LOG_ERROR, message); }

#define WOP_LOG_FORMATTED(function, level) \
  void function(const char* format, ...) { \
    va_list args;                          \
    va_start(args, format);                \
    vwrite(level, format, args);           \
    va_end(args);                          \
  }
WOP_LOG_FORMATTED(debug, WOP_LOG_DEBUG)
WOP_LOG_FORMATTED(info, WOP_LOG_INFO)
WOP_LOG_FORMATTED(warn, WOP_LOG_WARN)
WOP_LOG_FORMATTED(error, WOP_LOG_ERROR)
#undef WOP_LOG_FORMATTED

}  // namespace wop::sdk::log
