#include "common/subprocess.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wop::common {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

SubprocessOptions shell(const std::string& script) {
  SubprocessOptions options;
  options.command = "sh";
  options.args = {"-c", script};
  options.env = {"PATH=/usr/bin:/bin", "GREETING=hello"};
  options.timeout = 10s;
  options.maxStdoutBytes = 1024;
  options.maxStderrBytes = 16;
  return options;
}

TEST(Subprocess, CapturesStdoutStderrAndTheExitCodeWithTheGivenEnvironment) {
  auto result = runSubprocess(shell("echo $GREETING; echo oops >&2; exit 4"));
  ASSERT_TRUE(result.isOk()) << result.status().toString();
  EXPECT_EQ(result->stdoutText, "hello\n");
  EXPECT_EQ(result->stderrText, "oops\n");
  EXPECT_EQ(result->exitCode, 4);
  EXPECT_EQ(result->termSignal, 0);
}

TEST(Subprocess, StdinIsEmpty) {
  auto result = runSubprocess(shell("wc -c"));
  ASSERT_TRUE(result.isOk());
  EXPECT_THAT(result->stdoutText, HasSubstr("0"));
}

TEST(Subprocess, StderrBeyondItsCapIsDropped) {
  auto result = runSubprocess(shell("printf '%040d' 0 >&2"));
  ASSERT_TRUE(result.isOk());
  EXPECT_EQ(result->stderrText.size(), 16u);
}

TEST(Subprocess, StdoutBeyondItsCapFailsTheRun) {
  auto result = runSubprocess(shell("printf '%02000d' 0"));
  ASSERT_FALSE(result.isOk());
  EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
}

TEST(Subprocess, AChildThatOutlivesTheTimeoutIsKilledWithWhatItStarted) {
  SubprocessOptions options = shell("sleep 30 & sleep 30");
  options.timeout = 200ms;
  const auto start = std::chrono::steady_clock::now();
  auto result = runSubprocess(options);
  ASSERT_FALSE(result.isOk());
  EXPECT_EQ(result.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(Subprocess, AMissingCommandIsNotFound) {
  SubprocessOptions options = shell("");
  options.command = "/nonexistent/wop-no-such-command";
  auto result = runSubprocess(options);
  ASSERT_FALSE(result.isOk());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
}

TEST(Subprocess, ASignalledChildReportsTheSignal) {
  auto result = runSubprocess(shell("kill -9 $$"));
  ASSERT_TRUE(result.isOk());
  EXPECT_EQ(result->termSignal, 9);
}

}  // namespace
}  // namespace wop::common
