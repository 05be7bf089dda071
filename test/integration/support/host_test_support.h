// Helpers for integration tests of an OperatorHost: its log lines kept for assertions, and one
// operator's stats by name.
#pragma once

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/operator_host.h"

namespace wop::testing {

// Keeps every log line (and echoes it for failing tests' output).
struct LogCapture {
  std::mutex mutex;
  std::vector<std::string> lines;
  runtime::LogSink sink() {
    auto echo = runtime::stderrLogSink();
    return [this, echo](const runtime::LogRecord& record) {
      echo(record);
      std::lock_guard lock(mutex);
      lines.push_back(record.operatorName + ": " + record.message);
    };
  }
  bool contains(const std::string& text) {
    std::lock_guard lock(mutex);
    return std::any_of(lines.begin(), lines.end(),
                       [&](const auto& l) { return l.find(text) != std::string::npos; });
  }
};

inline runtime::OperatorStats statsOf(runtime::OperatorHost& host, const std::string& name) {
  for (const auto& s : host.stats()) {
    if (s.name == name) return s;
  }
  return {};
}

}  // namespace wop::testing
