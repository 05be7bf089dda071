#include "runtime/log_sink.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "wop_abi.h"

namespace wop::runtime {
namespace {

const LogRecord kReconcileLine{
    "ring-0", WOP_LOG_WARN, "reconcile failed: \"x\" = y", {{"key", "ns/a"}, {"reconcileID", "7"}}};

TEST(LogSinkTest, LogfmtQuotesValuesThatNeedItAndAppendsFields) {
  EXPECT_EQ(formatLogLine(kReconcileLine, LogFormat::kLogfmt, "2026-12-03T01:00:00.000Z"),
            "2026-12-03T01:00:00.000Z level=warn operator=ring-0 "
            "msg=\"reconcile failed: \\\"x\\\" = y\" key=ns/a reconcileID=7");
}

TEST(LogSinkTest, TheHostsOwnLinesNameNoOperator) {
  EXPECT_EQ(formatLogLine({"", WOP_LOG_INFO, "ready", {}}, LogFormat::kLogfmt, "T"),
            "T level=info operator=- msg=ready");
}

TEST(LogSinkTest, JsonLinesParseAndCarryEveryField) {
  const auto line = formatLogLine(kReconcileLine, LogFormat::kJson, "2026-12-03T01:00:00.000Z");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["ts"], "2026-12-03T01:00:00.000Z");
  EXPECT_EQ(json["level"], "warn");
  EXPECT_EQ(json["operator"], "ring-0");
  EXPECT_EQ(json["msg"], "reconcile failed: \"x\" = y");
  EXPECT_EQ(json["key"], "ns/a");
  EXPECT_EQ(json["reconcileID"], "7");
}

TEST(LogSinkTest, JsonSurvivesBytesThatAreNotUtf8) {
  const auto line =
      formatLogLine({"op", WOP_LOG_ERROR, "bad \xff byte", {}}, LogFormat::kJson, "T");
  EXPECT_NO_THROW((void)nlohmann::json::parse(line));
}

}  // namespace
}  // namespace wop::runtime
