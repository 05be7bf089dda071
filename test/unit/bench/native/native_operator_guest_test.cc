#include "native/native_operator_guest.h"

#include <gtest/gtest.h>

#include <barrier>
#include <stdexcept>
#include <string>
#include <thread>

#include "bench/native/fake_services.h"
#include "wop/sdk.h"

namespace wop::bench {
namespace {

using testing::FakeServices;

constexpr sdk::Kind kWidget{"example.dev/v1", "Widget"};
constexpr uint32_t kControllerId = 3;  // what FakeServices::declare answers

// Logs through the SDK's ambient Host, the one a concurrent entry could get wrong.
class Logging : public sdk::Operator {
 public:
  std::vector<sdk::Controller> controllers(const sdk::Config& config) override {
    sdk::log::info("init " + config.string("inputNamespace"));
    return {sdk::Controller("widgets").For(kWidget)};
  }
  sdk::Task<sdk::Result> reconcile(sdk::Context&, const sdk::Request& req) override {
    sdk::log::info(req.key());
    co_return sdk::Result::done();
  }
};

// Logs its key in reconcile once the other guest's reconcile has started too, and returns
// only once the other has logged as well.
class Meeting : public sdk::Operator {
 public:
  explicit Meeting(std::barrier<>& meeting) : meeting_(meeting) {}
  std::vector<sdk::Controller> controllers(const sdk::Config&) override {
    return {sdk::Controller("widgets").For(kWidget)};
  }
  sdk::Task<sdk::Result> reconcile(sdk::Context&, const sdk::Request& req) override {
    meeting_.arrive_and_wait();  // both inside
    sdk::log::info(req.key());
    meeting_.arrive_and_wait();  // both logged
    co_return sdk::Result::done();
  }

 private:
  std::barrier<>& meeting_;
};

class Throwing : public sdk::Operator {
 public:
  std::vector<sdk::Controller> controllers(const sdk::Config&) override {
    throw std::runtime_error("no");
  }
  sdk::Task<sdk::Result> reconcile(sdk::Context&, const sdk::Request&) override {
    co_return sdk::Result::done();
  }
};

std::unique_ptr<runtime::OperatorGuest> makeGuest(const OperatorMaker& maker,
                                                  FakeServices& services) {
  auto guest = NativeGuestFactory(maker).create(services);
  EXPECT_TRUE(guest.isOk());
  return std::move(*guest);
}

TEST(NativeOperatorGuest, EachGuestLogsToItsOwnServicesAndTheAmbientHostIsRestored) {
  FakeServices first, second;
  second.configJson = R"({"inputNamespace":"ring-1"})";
  auto a = makeGuest([] { return std::make_unique<Logging>(); }, first);
  auto b = makeGuest([] { return std::make_unique<Logging>(); }, second);
  ASSERT_TRUE(a->init().isOk());
  ASSERT_TRUE(b->init().isOk());
  EXPECT_EQ(sdk::detail::host(), nullptr);
  ASSERT_EQ(first.logs.size(), 1u);
  EXPECT_EQ(first.logs[0].second, "init ring-0");
  ASSERT_EQ(second.logs.size(), 1u);
  EXPECT_EQ(second.logs[0].second, "init ring-1");
}

TEST(NativeOperatorGuest, GuestsInsideEntriesAtOnceLogToTheirOwnServices) {
  // Both reconciles are inside their entry when either logs: with one process-wide Host
  // pointer, both would log to the services of whichever entered last.
  std::barrier<> meeting(2);
  FakeServices first, second;
  auto a = makeGuest([&] { return std::make_unique<Meeting>(meeting); }, first);
  auto b = makeGuest([&] { return std::make_unique<Meeting>(meeting); }, second);
  ASSERT_TRUE(a->init().isOk());
  ASSERT_TRUE(b->init().isOk());
  std::thread ta([&] { EXPECT_TRUE(a->reconcile(1, kControllerId, "ns/a").isOk()); });
  std::thread tb([&] { EXPECT_TRUE(b->reconcile(1, kControllerId, "ns/b").isOk()); });
  ta.join();
  tb.join();
  ASSERT_EQ(first.logs.size(), 1u);
  EXPECT_EQ(first.logs[0].second, "ns/a");
  ASSERT_EQ(second.logs.size(), 1u);
  EXPECT_EQ(second.logs[0].second, "ns/b");
}

TEST(NativeOperatorGuest, AnExceptionFailsTheEntryLikeATrap) {
  FakeServices services;
  auto guest = makeGuest([] { return std::make_unique<Throwing>(); }, services);
  auto status = guest->init();
  EXPECT_EQ(status.code(), common::StatusCode::kAborted);
  EXPECT_NE(status.message().find("wop_init threw: no"), std::string::npos);
  EXPECT_EQ(sdk::detail::host(), nullptr);
}

TEST(NativeOperatorGuest, ReportsNoMemoryOfItsOwn) {
  FakeServices services;
  EXPECT_EQ(makeGuest([] { return std::make_unique<Logging>(); }, services)->memoryBytes(), 0u);
}

}  // namespace
}  // namespace wop::bench
