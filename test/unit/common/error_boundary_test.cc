#include "common/error_boundary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <new>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

namespace wop::common {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ErrorBoundaryTest, ABodyThatReturnsNormallyPassesItsOutcomeThrough) {
  int runs = 0;
  EXPECT_TRUE(guard("counting", [&] { ++runs; }).isOk());
  EXPECT_EQ(runs, 1);

  Status refused = guard("checking", [] { return Status(StatusCode::kNotFound, "no such file"); });
  EXPECT_EQ(refused.code(), StatusCode::kNotFound);
  EXPECT_EQ(refused.message(), "no such file");  // the body's own error is not rewritten

  Result<int> value = guard("adding", [] { return Result<int>(42); });
  ASSERT_TRUE(value);
  EXPECT_EQ(*value, 42);
}

TEST(ErrorBoundaryTest, AThrownExceptionBecomesAStatusNamingWhereAndWhat) {
  Status status = guard("decoding the list", [] { throw std::out_of_range("no such element"); });
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_EQ(status.message(), "decoding the list: no such element");
}

TEST(ErrorBoundaryTest, AJsonExceptionKeepsItsReason) {
  Result<int> parsed =
      guard("reading the config", [] { return Result<int>(nlohmann::json::parse("{").size()); });
  ASSERT_FALSE(parsed);
  EXPECT_THAT(parsed.status().message(),
              HasSubstr("reading the config: [json.exception.parse_error.101]"));
}

TEST(ErrorBoundaryTest, BadAllocIsNamedOutOfMemory) {
  Status status = guard("growing the queue", [] { throw std::bad_alloc(); });
  EXPECT_EQ(status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(status.message(), "growing the queue: out of memory");
}

TEST(ErrorBoundaryTest, AnythingThrownIsCaught) {
  Status status = guard("a callback", [] { throw 42; });
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_EQ(status.message(), "a callback: an exception that is not a std::exception");
}

TEST(ErrorBoundaryTest, TheReasonIsOneLine) {
  Status status = guard("parsing", [] { throw std::runtime_error("line one\nline two\r\x1b[2J"); });
  EXPECT_THAT(status.message(), Not(HasSubstr("\n")));
  EXPECT_THAT(status.message(), Not(HasSubstr("\x1b")));
  EXPECT_EQ(status.message(), "parsing: line one\\nline two\\r\\x1b[2J");
}

TEST(ErrorBoundaryTest, GuardNeverThrows) {
  static_assert(noexcept(guard("x", [] { throw 1; })));
  static_assert(noexcept(guardOrLog("x", [] { throw 1; })));
}

TEST(ErrorBoundaryTest, GuardOrLogWritesOneLineAndReportsFailure) {
  ::testing::internal::CaptureStderr();
  const bool ran = guardOrLog("a scheduled function", [] {});
  const bool threw = guardOrLog("a scheduled function", [] { throw std::logic_error("boom"); });
  const bool refused =
      guardOrLog("a task", [] { return Status(StatusCode::kUnavailable, "no server"); });
  const std::string output = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(ran);
  EXPECT_FALSE(threw);
  EXPECT_FALSE(refused);
  EXPECT_EQ(output,
            "wasm-operator: a scheduled function: boom\n"
            "wasm-operator: no server\n");
}

TEST(ErrorBoundaryTest, LogToStderrPutsTheContextFirst) {
  ::testing::internal::CaptureStderr();
  logToStderr(Status(StatusCode::kInternal, "the response callback: boom"), "https://a/api");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "wasm-operator: https://a/api: the response callback: boom\n");
}

}  // namespace
}  // namespace wop::common
