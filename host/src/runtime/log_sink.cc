#include "runtime/log_sink.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "wop_abi.h"

namespace wop::runtime {
namespace {

// Quotes a logfmt value when it needs it, so every line stays one record. The text has no
// control characters left (OperatorHost::log escaped them).
std::string logfmtValue(const std::string& text) {
  if (!text.empty() && text.find_first_of(" \"=\\") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string utcTimestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char time[40];
  const size_t n = std::strftime(time, sizeof time, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(time + n, sizeof time - n, ".%03lldZ", static_cast<long long>(millis));
  return time;
}

}  // namespace

const char* logLevelName(int32_t level) {
  switch (level) {
    case WOP_LOG_DEBUG:
      return "debug";
    case WOP_LOG_INFO:
      return "info";
    case WOP_LOG_WARN:
      return "warn";
    default:
      return "error";
  }
}

std::optional<int32_t> logLevelFromName(std::string_view name) {
  for (int32_t level : {WOP_LOG_DEBUG, WOP_LOG_INFO, WOP_LOG_WARN, WOP_LOG_ERROR}) {
    if (name == logLevelName(level)) return level;
  }
  return std::nullopt;
}

std::string formatLogLine(const LogRecord& record, LogFormat format, const std::string& timestamp) {
  const std::string operatorName = record.operatorName.empty() ? "-" : record.operatorName;
  if (format == LogFormat::kJson) {
    nlohmann::ordered_json line = {{"ts", timestamp},
                                   {"level", logLevelName(record.level)},
                                   {"operator", operatorName},
                                   {"msg", record.message}};
    for (const auto& [name, value] : record.fields) line[name] = value;
    // Escaped text is valid UTF-8 already; replace keeps a stray byte from throwing anyway.
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line = timestamp + " level=" + logLevelName(record.level) +
                     " operator=" + logfmtValue(operatorName) +
                     " msg=" + logfmtValue(record.message);
  for (const auto& [name, value] : record.fields) line += " " + name + "=" + logfmtValue(value);
  return line;
}

LogSink stderrLogSink(LogFormat format) {
  return [format](const LogRecord& record) {
    const std::string line = formatLogLine(record, format, utcTimestamp()) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  };
}

}  // namespace wop::runtime
