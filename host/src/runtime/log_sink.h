// Where the host's log lines go, and the two formats it writes: logfmt for people, JSON for log
// pipelines (--log-format). Every line names its operator ("-" for the host itself).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/operator_environment.h"

namespace wop::runtime {

struct LogRecord {
  std::string operatorName;  // empty: the host itself
  int32_t level;             // WOP_LOG_*
  std::string message;       // escaped already (common::escapeLogText): one line
  LogFields fields;          // e.g. key and reconcileID of a reconcile's lines
};

using LogSink = std::function<void(const LogRecord&)>;

enum class LogFormat { kLogfmt, kJson };

// "debug", "info", "warn", "error".
const char* logLevelName(int32_t level);
// The level of one of those names (--log-level); nullopt for any other text.
std::optional<int32_t> logLevelFromName(std::string_view name);

// One line, without the newline:
//   logfmt: 2026-11-29T20:00:00.123Z level=info operator=ring-0 msg="..." key=ns/a reconcileID=7
//   JSON:   {"ts":"2026-11-29T20:00:00.123Z","level":"info","operator":"ring-0","msg":"...",
//            "key":"ns/a","reconcileID":"7"}
std::string formatLogLine(const LogRecord& record, LogFormat format, const std::string& timestamp);

// Writes each record as one line to stderr, stamped with the wall clock (UTC, milliseconds).
LogSink stderrLogSink(LogFormat format = LogFormat::kLogfmt);

}  // namespace wop::runtime
