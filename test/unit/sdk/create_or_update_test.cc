#include "wop/create_or_update.h"

#include <gtest/gtest.h>

#include <optional>

#include "scripted_host.h"
#include "wop/object.h"
#include "wop/runtime.h"

namespace wop::sdk {
namespace {

using scripted::ScriptedHost;

detail::Detached drive(Task<OperationResult> task, std::optional<OperationResult>& out) {
  out = co_await std::move(task);
}

class SdkCreateOrUpdate : public ::testing::Test {
 protected:
  template <typename F>
  void start(F mutate, ReadFrom from = ReadFrom::Cache) {
    result_.reset();
    drive(createOrUpdate(runtime_.client(), key_, std::move(mutate), from), result_);
  }
  void answer(int32_t status, const json& body) {
    runtime_.complete(static_cast<uint32_t>(host_.nextToken - 1), status, body.dump());
  }
  json existing() const {
    return json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"namespace": "ns", "name": "copy", "resourceVersion": "7"},
        "data": {"mode": "fast"}})");
  }
  static void setMode(json& cm) { cm["data"]["mode"] = "fast"; }

  ScriptedHost host_;
  detail::Runtime runtime_{host_};
  json key_ = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", {{"namespace", "ns"}, {"name", "copy"}}}};
  std::optional<OperationResult> result_;
};

TEST_F(SdkCreateOrUpdate, CreatesWhatIsAbsentWithTheMutationApplied) {
  start(setMode);
  ASSERT_EQ(host_.calls.size(), 1u);
  EXPECT_EQ(host_.calls[0]["verb"], "create");
  EXPECT_EQ(host_.calls[0]["body"]["data"]["mode"], "fast");
  EXPECT_EQ(host_.calls[0]["body"]["metadata"]["name"], "copy");
  json answered = host_.calls[0]["body"];
  answered["metadata"]["uid"] = "u-1";
  answer(201, answered);
  ASSERT_TRUE(result_);
  EXPECT_FALSE(result_->failed());
  EXPECT_EQ(result_->operation(), Operation::Created);
  EXPECT_EQ(uidOf(result_->object()), "u-1") << "the server's answer";
  EXPECT_STREQ(operationName(result_->operation()), "created");
}

TEST_F(SdkCreateOrUpdate, LeavesAnObjectThatNeedsNoChangeAlone) {
  host_.putObject(existing());
  start(setMode);
  ASSERT_TRUE(result_) << "no call: done at once";
  EXPECT_TRUE(host_.calls.empty());
  EXPECT_EQ(result_->operation(), Operation::Unchanged);
  EXPECT_EQ(resourceVersionOf(result_->object()), "7");
}

TEST_F(SdkCreateOrUpdate, UpdatesWhatChangedCarryingTheResourceVersionItRead) {
  host_.putObject(existing());
  start([](json& cm) { cm["data"]["mode"] = "slow"; });
  ASSERT_EQ(host_.calls.size(), 1u);
  EXPECT_EQ(host_.calls[0]["verb"], "update");
  EXPECT_EQ(host_.calls[0]["body"]["data"]["mode"], "slow");
  EXPECT_EQ(host_.calls[0]["body"]["metadata"]["resourceVersion"], "7")
      << "a concurrent change makes the update fail with 409 instead of being overwritten";
  answer(200, host_.calls[0]["body"]);
  ASSERT_TRUE(result_);
  EXPECT_EQ(result_->operation(), Operation::Updated);
}

TEST_F(SdkCreateOrUpdate, AConflictIsAnErrorToRetry) {
  host_.putObject(existing());
  start([](json& cm) { cm["data"]["mode"] = "slow"; });
  answer(409, {{"kind", "Status"}, {"message", "the object has been modified"}});
  ASSERT_TRUE(result_);
  EXPECT_TRUE(result_->failed());
  EXPECT_EQ(result_->error(),
            "createOrUpdate ConfigMap ns/copy: update: HTTP 409: the object has been modified");
}

// A failed read says nothing about the object: creating it then could clobber what exists.
TEST_F(SdkCreateOrUpdate, AFailedReadIsAnErrorNeverACreate) {
  host_.cacheStatus = WOP_ERR_UNAVAILABLE;
  start(setMode);
  ASSERT_TRUE(result_);
  EXPECT_TRUE(result_->failed());
  EXPECT_NE(result_->error().find("WOP_ERR_UNAVAILABLE"), std::string::npos) << result_->error();
  EXPECT_TRUE(host_.calls.empty());
}

TEST_F(SdkCreateOrUpdate, ALiveReadTellsNotFoundFromFailure) {
  start(setMode, ReadFrom::Live);
  ASSERT_EQ(host_.calls.size(), 1u);
  EXPECT_EQ(host_.calls[0]["verb"], "get");
  answer(404, {{"kind", "Status"}, {"reason", "NotFound"}});
  ASSERT_EQ(host_.calls.size(), 2u);
  EXPECT_EQ(host_.calls[1]["verb"], "create");
  answer(201, host_.calls[1]["body"]);
  EXPECT_EQ(result_->operation(), Operation::Created);

  start(setMode, ReadFrom::Live);
  answer(403, {{"kind", "Status"}, {"message", "forbidden"}});
  ASSERT_TRUE(result_);
  EXPECT_TRUE(result_->failed());
  EXPECT_EQ(result_->error(), "createOrUpdate ConfigMap ns/copy: get: HTTP 403: forbidden");
  EXPECT_EQ(host_.calls.size(), 3u) << "nothing written after a failed read";

  start(setMode, ReadFrom::Live);
  answer(200, existing());
  ASSERT_TRUE(result_);
  EXPECT_EQ(result_->operation(), Operation::Unchanged);
}

TEST_F(SdkCreateOrUpdate, AMutationThatFailsOrRenamesWritesNothing) {
  start([](json&) { return std::string("owner has no uid"); });
  ASSERT_TRUE(result_);
  EXPECT_EQ(result_->error(), "createOrUpdate ConfigMap ns/copy: mutate: owner has no uid");
  host_.putObject(existing());
  start([](json& cm) { cm["metadata"]["name"] = "other"; });
  ASSERT_TRUE(result_);
  EXPECT_NE(result_->error().find("changed the object's apiVersion, kind, namespace or name"),
            std::string::npos)
      << result_->error();
  start([](json& cm) -> std::string {
    cm["data"]["mode"] = "fast";
    return "";
  });
  EXPECT_EQ(result_->operation(), Operation::Unchanged) << "an empty error is success";
  EXPECT_TRUE(host_.calls.empty());
}

TEST_F(SdkCreateOrUpdate, AnObjectWithoutANameIsRefused) {
  key_["metadata"].erase("name");
  start(setMode);
  ASSERT_TRUE(result_);
  EXPECT_TRUE(result_->failed());
  EXPECT_TRUE(host_.calls.empty());
  EXPECT_TRUE(host_.cacheReads.empty());
}

}  // namespace
}  // namespace wop::sdk
