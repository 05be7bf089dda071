#include "server/wasm_operator_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wop::server {
namespace {

using Json = nlohmann::json;
using std::chrono::seconds;

common::WallTime at(int s) { return common::WallTime{} + seconds(1'800'000'000 + s); }

TEST(SetStatusCondition, TransitionTimeChangesOnlyWithTheStatus) {
  Json conditions;
  setStatusCondition(conditions, "Ready", false, "Starting", "starting", 1, at(0));
  ASSERT_EQ(conditions.size(), 1u);
  const Json first = conditions[0]["lastTransitionTime"];
  setStatusCondition(conditions, "Ready", false, "BackOff", "trapped", 2, at(10));
  EXPECT_EQ(conditions[0]["lastTransitionTime"], first);  // same status: time kept
  EXPECT_EQ(conditions[0]["reason"], "BackOff");
  EXPECT_EQ(conditions[0]["observedGeneration"], 2);
  setStatusCondition(conditions, "Ready", true, "Running", "reconciling", 2, at(20));
  EXPECT_NE(conditions[0]["lastTransitionTime"], first);
  EXPECT_EQ(conditions[0]["status"], "True");
  setStatusCondition(conditions, "Degraded", false, "AsSpecified", "ok", 2, at(20));
  EXPECT_EQ(conditions.size(), 2u);
  EXPECT_EQ(conditions[1]["type"], "Degraded");
}

TEST(WasmOperatorStatus, RunningWithItsCounters) {
  runtime::OperatorStats stats;
  stats.state = runtime::OperatorState::kRunning;
  stats.cachesSynced = true;
  stats.swappedOut = true;
  stats.reconciles = 7;
  stats.restarts = 1;
  stats.swapOuts = 3;
  stats.moduleDigest = "sha256:ab";
  WasmOperatorOutcome outcome{.generation = 4, .running = true};
  const Json status = wasmOperatorStatus(outcome, &stats, nullptr, at(0));
  EXPECT_EQ(status["phase"], "Running");
  EXPECT_EQ(status["memory"], "Swapped");
  EXPECT_EQ(status["observedGeneration"], 4);
  EXPECT_EQ(status["moduleDigest"], "sha256:ab");
  EXPECT_EQ(status["reconciles"], 7);
  EXPECT_EQ(status["restarts"], 1);
  EXPECT_EQ(status["swapOuts"], 3);
  EXPECT_EQ(status["conditions"][0]["type"], "Ready");
  EXPECT_EQ(status["conditions"][0]["status"], "True");
  EXPECT_EQ(status["conditions"][1]["type"], "Degraded");
  EXPECT_EQ(status["conditions"][1]["status"], "False");
  // Nothing moved: the same status, so the controller writes nothing.
  EXPECT_EQ(wasmOperatorStatus(outcome, &stats, status, at(30)), status);
}

TEST(WasmOperatorStatus, ARefusedUpgradeIsDegradedWhileTheOldVersionRuns) {
  runtime::OperatorStats stats;  // the old version's, still running
  stats.state = runtime::OperatorState::kRunning;
  stats.moduleDigest = "sha256:old";
  WasmOperatorOutcome outcome{.generation = 2,
                              .running = true,
                              .degraded = true,
                              .reason = "UpgradeRefused",
                              .message = "not a WebAssembly module"};
  const Json status = wasmOperatorStatus(outcome, &stats, nullptr, at(0));
  EXPECT_EQ(status["phase"], "Degraded");
  EXPECT_EQ(status["conditions"][0]["status"], "True");  // still Ready: the old one runs
  EXPECT_EQ(status["conditions"][1]["status"], "True");
  EXPECT_EQ(status["conditions"][1]["reason"], "UpgradeRefused");
  EXPECT_EQ(status["moduleDigest"], "sha256:old");
}

TEST(WasmOperatorStatus, ARefusedOperatorIsNotReadyAndSaysWhy) {
  WasmOperatorOutcome outcome{
      .generation = 1, .running = false, .reason = "ModuleRefused", .message = "not Wasm"};
  const Json status = wasmOperatorStatus(outcome, nullptr, nullptr, at(0));
  EXPECT_EQ(status["phase"], "Refused");
  EXPECT_EQ(status["conditions"][0]["status"], "False");
  EXPECT_EQ(status["conditions"][0]["reason"], "ModuleRefused");
  EXPECT_EQ(status["conditions"][0]["message"], "not Wasm");
  EXPECT_FALSE(status.contains("memory"));
}

TEST(WasmOperatorStatus, BackingOffIsDegradedAndNotReady) {
  runtime::OperatorStats stats;
  stats.state = runtime::OperatorState::kBackoff;
  stats.lastError = "trapped: unreachable\n  at wop_reconcile";
  WasmOperatorOutcome outcome{.generation = 1, .running = true};
  const Json status = wasmOperatorStatus(outcome, &stats, nullptr, at(0));
  EXPECT_EQ(status["phase"], "Degraded");
  EXPECT_EQ(status["conditions"][0]["status"], "False");
  EXPECT_EQ(status["conditions"][0]["message"], "trapped: unreachable");
}

}  // namespace
}  // namespace wop::server
