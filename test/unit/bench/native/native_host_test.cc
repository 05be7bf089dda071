#include "native/native_host.h"

#include <gtest/gtest.h>

#include <string>

#include "bench/native/fake_services.h"

namespace wop::bench {
namespace {

using hostcalls::HostCallError;
using testing::FakeServices;

TEST(NativeHost, PassesValuesThrough) {
  FakeServices services;
  NativeHost host(services);
  std::string out;
  EXPECT_EQ(host.configGet(&out), WOP_OK);
  EXPECT_EQ(out, R"({"inputNamespace":"ring-0"})");
  EXPECT_EQ(host.declare("{}"), 3);
  EXPECT_EQ(host.cacheRead("{}", &out), WOP_OK);
  EXPECT_EQ(out, R"({"kind":"X"})");
  EXPECT_EQ(host.apiCall("{}"), 7);
  EXPECT_EQ(host.reconcileDone(1, WOP_RECONCILE_DONE, 0, ""), WOP_OK);
  EXPECT_EQ(host.emitKey("ring-0/a"), WOP_OK);
  EXPECT_TRUE(services.logs.empty());
}

TEST(NativeHost, ReturnsTheErrorsCodeAndLogsItsMessage) {
  FakeServices services;
  services.error = HostCallError{WOP_ERR_LIMIT, "too many calls in flight"};
  NativeHost host(services);
  std::string out = "untouched";
  EXPECT_EQ(host.declare("{}"), WOP_ERR_LIMIT);
  EXPECT_EQ(host.cacheRead("{}", &out), WOP_ERR_LIMIT);
  EXPECT_EQ(out, "untouched");
  EXPECT_EQ(host.apiCall("{}"), WOP_ERR_LIMIT);
  EXPECT_EQ(host.reconcileDone(1, WOP_RECONCILE_ERROR, 0, "boom"), WOP_ERR_LIMIT);
  EXPECT_EQ(host.emitKey("ring-0/a"), WOP_ERR_LIMIT);
  ASSERT_EQ(services.logs.size(), 5u);
  EXPECT_EQ(
      services.logs[2],
      std::make_pair(int32_t{WOP_LOG_WARN}, std::string("wop_api_call: too many calls in flight")));
}

TEST(NativeHost, ACacheMissIsNotLogged) {
  FakeServices services;
  services.error = HostCallError{WOP_ERR_NOT_FOUND, "no such object"};
  NativeHost host(services);
  std::string out;
  EXPECT_EQ(host.cacheRead("{}", &out), WOP_ERR_NOT_FOUND);
  EXPECT_TRUE(services.logs.empty());
  services.error = HostCallError{WOP_ERR_UNAVAILABLE, "cache not synced"};
  EXPECT_EQ(host.cacheRead("{}", &out), WOP_ERR_UNAVAILABLE);
  EXPECT_EQ(services.logs.size(), 1u);
}

TEST(NativeHost, RefusesWhatTheWasmHostRefusesForLength) {
  FakeServices services;
  NativeHost host(services);
  EXPECT_EQ(host.emitKey(std::string(WOP_MAX_KEY_BYTES + 1, 'k')), WOP_ERR_LIMIT);
  EXPECT_EQ(host.declare(std::string(WOP_MAX_DECLARATION_BYTES + 1, ' ')), WOP_ERR_LIMIT);
  EXPECT_EQ(services.logs.size(), 2u);
  EXPECT_TRUE(services.violations.empty());
}

TEST(NativeHost, TruncatesLongLogLinesAndClampsLevels) {
  FakeServices services;
  NativeHost host(services);
  host.log(42, std::string(WOP_MAX_LOG_BYTES + 10, 'x'));
  ASSERT_EQ(services.logs.size(), 1u);
  EXPECT_EQ(services.logs[0].first, WOP_LOG_INFO);
  EXPECT_EQ(services.logs[0].second.size(), WOP_MAX_LOG_BYTES);
}

}  // namespace
}  // namespace wop::bench
