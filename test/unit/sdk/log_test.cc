#include "wop/log.h"

#include <gtest/gtest.h>

#include "scripted_host.h"

namespace wop::sdk {
namespace {

using scripted::ScriptedHost;

TEST(SdkLog, KeyValuesFollowTheMessageAsLogfmt) {
  ScriptedHost host;
  const std::string ns = "shop";
  log::info("copied", {{"namespace", ns}, {"name", "settings"}, {"copies", 3}, {"ok", true}});
  ASSERT_EQ(host.logs.size(), 1u);
  EXPECT_EQ(host.logs[0].first, WOP_LOG_INFO);
  EXPECT_EQ(host.logs[0].second, "copied namespace=shop name=settings copies=3 ok=true");
  log::error(std::string("failed"), {{"error", "HTTP 409: conflict"}});
  EXPECT_EQ(host.logs[1].first, WOP_LOG_ERROR);
  EXPECT_EQ(host.logs[1].second, R"(failed error="HTTP 409: conflict")");
}

TEST(SdkLog, ValuesThatCouldSplitTheLineOrForgeAKeyAreQuoted) {
  EXPECT_EQ(log::withFields("m", {{"a", ""}}), R"(m a="")");
  EXPECT_EQ(log::withFields("m", {{"a", "x=1"}}), R"(m a="x=1")");
  EXPECT_EQ(log::withFields("m", {{"a", "say \"hi\""}}), R"(m a="say \"hi\"")");
  EXPECT_EQ(log::withFields("m", {{"a", "c:\\dir"}}), R"(m a="c:\\dir")");
  EXPECT_EQ(log::withFields("m", {{"a", "one\ntwo\tthree\r"}}), R"(m a="one\ntwo\tthree\r")");
  EXPECT_EQ(log::withFields("m", {{"a", std::string_view("\x01\x7f", 2)}}), R"(m a="\x01\x7f")");
  EXPECT_EQ(log::withFields("m", {{"a", "h\xc3\xa9llo"}}), "m a=h\xc3\xa9llo") << "UTF-8 kept";
  EXPECT_EQ(log::withFields("m", {{"bad key=x", 1}, {"", 2}, {"k8s.io/name-x_y", 3}}),
            "m bad_key_x=1 _=2 k8s.io/name-x_y=3");
}

TEST(SdkLog, NumbersOfEveryKindRender) {
  EXPECT_EQ(log::withFields("m", {{"i", -5},
                                  {"u", 7u},
                                  {"l", int64_t{1} << 40},
                                  {"s", size_t{12}},
                                  {"d", 0.25},
                                  {"b", false}}),
            "m i=-5 u=7 l=1099511627776 s=12 d=0.25 b=false");
  EXPECT_EQ(log::withFields("just a message", {}), "just a message");
}

TEST(SdkLog, ThePrintfStyleStillWorks) {
  ScriptedHost host;
  log::info("copied %s to %d namespaces", "shop/settings", 3);
  log::warn("plain");
  log::debug(std::string("a string"));
  ASSERT_EQ(host.logs.size(), 3u);
  EXPECT_EQ(host.logs[0].second, "copied shop/settings to 3 namespaces");
  EXPECT_EQ(host.logs[1].first, WOP_LOG_WARN);
  EXPECT_EQ(host.logs[2].first, WOP_LOG_DEBUG);
}

}  // namespace
}  // namespace wop::sdk
