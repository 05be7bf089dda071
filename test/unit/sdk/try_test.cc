#include "wop/try.h"

#include <gtest/gtest.h>

#include <optional>

#include "scripted_host.h"
#include "wop/client.h"
#include "wop/create_or_update.h"
#include "wop/runtime.h"
#include "wop/task.h"

namespace wop::sdk {
namespace {

using scripted::ScriptedHost;

detail::Detached drive(Task<Result> task, std::optional<Result>& out) {
  out = co_await std::move(task);
}

// A reconcile written with the macros: read, create, patch, each failing in one line.
Task<Result> copyOnce(Client& client, std::vector<std::string>& trace) {
  WOP_CO_TRY(auto source, client.get(kinds::ConfigMap, "ns", "source"));
  trace.push_back(source.notFound() ? "source absent" : "source found");
  if (source.notFound()) co_return Result::done();
  WOP_CO_TRY(auto copies, client.list(kinds::ConfigMap, "other", "copy=yes"));
  trace.push_back(std::to_string(copies->size()) + " copies");
  json copy = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", {{"namespace", "other"}, {"name", "copy"}}}};
  WOP_CO_TRY(Response created, co_await client.create(copy));
  trace.push_back("created " + std::to_string(created.status));
  WOP_CO_CHECK(co_await client.patch(copy, {{"data", {{"a", "b"}}}}));
  trace.push_back("patched");
  co_return Result::requeueAfter(1000);
}

class SdkTry : public ::testing::Test {
 protected:
  std::optional<Result> run() {
    std::optional<Result> result;
    drive(copyOnce(runtime_.client(), trace_), result);
    return result;
  }
  void answer(int32_t status, const std::string& body = "{}") {
    runtime_.complete(static_cast<uint32_t>(host_.nextToken - 1), status, body);
  }
  void putSource() {
    host_.putObject(json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"namespace": "ns", "name": "source"}})"));
    host_.putList("v1", "ConfigMap", "other", "copy=yes", json::array());
  }

  ScriptedHost host_;
  detail::Runtime runtime_{host_};
  std::vector<std::string> trace_;
};

TEST_F(SdkTry, AFailedReadEndsTheReconcileWithItsError) {
  host_.cacheStatus = WOP_ERR_FORBIDDEN;
  auto result = run();
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->isError());
  EXPECT_FALSE(result->isTerminal());
  EXPECT_NE(result->message().find("WOP_ERR_FORBIDDEN"), std::string::npos) << result->message();
  EXPECT_TRUE(trace_.empty());
}

TEST_F(SdkTry, NotFoundIsAValueNotAFailure) {
  auto result = run();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->kind(), Result::Kind::kDone);
  EXPECT_EQ(trace_, std::vector<std::string>{"source absent"});
}

TEST_F(SdkTry, AFailedCallEndsTheReconcileWithTheServersMessage) {
  putSource();
  std::optional<Result> result;
  drive(copyOnce(runtime_.client(), trace_), result);
  EXPECT_FALSE(result) << "waiting for the create";
  answer(409, R"({"kind": "Status", "message": "configmaps \"copy\" already exists"})");
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->isError());
  EXPECT_EQ(result->message(), "HTTP 409: configmaps \"copy\" already exists");
  EXPECT_EQ(trace_, (std::vector<std::string>{"source found", "0 copies"}));
}

TEST_F(SdkTry, EachStepSucceedsInTurn) {
  putSource();
  std::optional<Result> result;
  drive(copyOnce(runtime_.client(), trace_), result);
  answer(201);
  EXPECT_FALSE(result) << "waiting for the patch";
  answer(500, R"({"message": "etcd timeout"})");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->message(), "HTTP 500: etcd timeout");

  trace_.clear();
  result.reset();
  drive(copyOnce(runtime_.client(), trace_), result);
  answer(201);
  answer(200);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->kind(), Result::Kind::kRequeueAfter);
  EXPECT_EQ(trace_.back(), "patched");
}

TEST_F(SdkTry, AHostRefusalIsAnErrorToo) {
  putSource();
  host_.apiCallStatus = WOP_ERR_LIMIT;
  auto result = run();
  ASSERT_TRUE(result) << "a refused call completes at once";
  EXPECT_NE(result->message().find("WOP_ERR_LIMIT"), std::string::npos) << result->message();
}

TEST(SdkTryError, KnowsEveryResultType) {
  EXPECT_FALSE(detail::tryError(ReadResult<json>::absent()));
  EXPECT_EQ(detail::tryError(ReadResult<json>::failure(WOP_ERR_LIMIT, "too big")), "too big");
  EXPECT_FALSE(detail::tryError(Response{204, ""}));
  EXPECT_TRUE(detail::tryError(Response{404, ""}));
  EXPECT_FALSE(detail::tryError(OperationResult::of(Operation::Created, json::object())));
  EXPECT_EQ(detail::tryError(OperationResult::failure("mutate: no")), "mutate: no");
}

}  // namespace
}  // namespace wop::sdk
