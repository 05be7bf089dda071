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

// ---- key/value lines

namespace {

bool isKeyByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '/';
}

bool needsQuotes(std::string_view value) {
  if (value.empty()) return true;
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f || c == '"' || c == '=' || c == '\\') return true;
  }
  return false;
}

void appendValue(std::string& line, std::string_view value) {
  if (!needsQuotes(value)) {
    line += value;
    return;
  }
  line += '"';
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        line += "\\\"";
        break;
      case '\\':
        line += "\\\\";
        break;
      case '\n':
        line += "\\n";
        break;
      case '\r':
        line += "\\r";
        break;
      case '\t':
        line += "\\t";
        break;
      default:
        if (byte < 0x20 || byte == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
          line += escaped;
        } else {
          line += c;
        }
    }
  }
  line += '"';
}

}  // namespace

Field::Field(std::string_view key, double value) : key(key) {
  char text[32];
  const int length = std::snprintf(text, sizeof text, "%g", value);
  this->value.assign(text, length > 0 ? static_cast<size_t>(length) : 0);
}

std::string withFields(std::string_view message, std::initializer_list<Field> fields) {
  std::string line(message);
  for (const auto& field : fields) {
    line += ' ';
    if (field.key.empty()) line += '_';
    for (char c : field.key) line += isKeyByte(c) ? c : '_';
    line += '=';
    appendValue(line, field.value);
  }
  return line;
}

void debug(std::string_view message, std::initializer_list<Field> fields) {
  write(WOP_LOG_DEBUG, withFields(message, fields));
}
void info(std::string_view message, std::initializer_list<Field> fields) {
  write(WOP_LOG_INFO, withFields(message, fields));
}
void warn(std::string_view message, std::initializer_list<Field> fields) {
  write(WOP_LOG_WARN, withFields(message, fields));
}
void error(std::string_view message, std::initializer_list<Field> fields) {
  write(WOP_LOG_ERROR, withFields(message, fields));
}

}  // namespace wop::sdk::log
