// FakeServices: the runtime's OperatorServices for native guest tests. Answers each call with
// what the test set; records logs and violations.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hostcalls/operator_services.h"

namespace wop::bench::testing {

using hostcalls::HostCallError;
using hostcalls::HostResult;

// OperatorServices that answers each call with what the test set, and records logs.
class FakeServices final : public hostcalls::OperatorServices {
 public:
  void log(int32_t level, std::string_view message) override {
    logs.emplace_back(level, std::string(message));
  }
  std::string config() override { return configJson; }
  HostResult<int32_t> declare(std::string_view) override { return answer(int32_t{3}); }
  HostResult<std::string> cacheRead(std::string_view) override {
    return answer(std::string(R"({"kind":"X"})"));
  }
  HostResult<uint32_t> apiCall(std::string_view) override { return answer(uint32_t{7}); }
  HostResult<int32_t> reconcileDone(uint32_t, int32_t, int64_t, std::string_view) override {
    return answer(int32_t{WOP_OK});
  }
  HostResult<int32_t> emitKey(std::string_view) override { return answer(int32_t{WOP_OK}); }
  void contractViolation(std::string what) override { violations.push_back(std::move(what)); }

  std::string configJson = R"({"inputNamespace":"ring-0"})";
  std::optional<HostCallError> error;  // the next answers' error, if any
  std::vector<std::pair<int32_t, std::string>> logs;
  std::vector<std::string> violations;

 private:
  template <typename T>
  HostResult<T> answer(T value) {
    if (error) return *error;
    return value;
  }
};

}  // namespace wop::bench::testing
