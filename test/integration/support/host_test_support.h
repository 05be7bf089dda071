// Helpers for integration tests of an OperatorHost: its log lines kept for assertions, one
// operator's stats by name, and .wat guests compiled for it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>
#include <wasmtime.hh>

#include "runtime/figure_recorder.h"
#include "runtime/operator_host.h"

namespace wop::testing {

// Keeps every log line as "operator: message field=value..." (and echoes it for failing
// tests' output).
struct LogCapture {
  std::mutex mutex;
  std::vector<std::string> lines;
  runtime::LogSink sink() {
    auto echo = runtime::stderrLogSink();
    return [this, echo](const runtime::LogRecord& record) {
      echo(record);
      std::lock_guard lock(mutex);
      std::string line = record.operatorName + ": " + record.message;
      for (const auto& [name, value] : record.fields) line += " " + name + "=" + value;
      lines.push_back(std::move(line));
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

// Compiles a .wat guest of the source tree into a .wasm file in dir.
inline std::string watModule(const std::string& relativePath, const std::string& dir) {
  std::ifstream in(std::string(WOP_SOURCE_DIR) + "/" + relativePath);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto bytes = wasmtime::wat2wasm(text);
  EXPECT_TRUE(bytes) << relativePath << ": " << bytes.err().message();
  const std::string out = dir + "/" + std::filesystem::path(relativePath).stem().string() + ".wasm";
  std::ofstream file(out, std::ios::binary);
  auto data = bytes.unwrap();
  file.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  return out;
}

}  // namespace wop::testing
