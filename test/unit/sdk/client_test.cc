#include "wop/client.h"

#include <gtest/gtest.h>

#include "wop/runtime.h"
#include "wop/testing/fake_host.h"

namespace wop::sdk {
namespace {

using wop::testing::FakeHost;

class SdkClient : public ::testing::Test {
 protected:
  // Sends the call and returns the request the host got (the call stays pending).
  json sent(Call call) {
    start(std::move(call));
    return host_.calls().back().request;
  }
  static detail::Detached start(Call call) { co_await std::move(call); }

  // Calls left pending by sent() are answered, so their coroutine frames finish and are freed.
  void TearDown() override {
    for (size_t token = 1; token <= host_.calls().size(); ++token)
      runtime_.complete(token, 200, "{}");
  }

  FakeHost host_;
  detail::Runtime runtime_{host_};
  Client& client_ = runtime_.client();
  json object_ = json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
      "metadata": {"namespace": "ns", "name": "web", "uid": "u-1", "resourceVersion": "3"}})");
};

TEST_F(SdkClient, ReadsObjectsAndListsFromTheCache) {
  host_.cluster().put(object_);
  for (const char* name : {"web-1", "web-2"}) {
    json labelled = object_;
    labelled["metadata"]["name"] = name;
    labelled["metadata"]["labels"] = {{"app", "web"}};
    host_.cluster().put(labelled);
  }
  auto found = client_.get(kinds::Deployment, "ns", "web");
  ASSERT_TRUE(found.found());
  EXPECT_EQ((*found)["metadata"]["uid"], "u-1");
  auto missing = client_.get(kinds::Deployment, "ns", "missing");
  EXPECT_TRUE(missing.notFound());
  EXPECT_FALSE(missing.failed()) << "not found is an answer, not an error";
  auto listed = client_.list(kinds::Deployment, "ns", "app=web");
  ASSERT_TRUE(listed.found());
  EXPECT_EQ(listed->size(), 2u);
  auto none = client_.list(kinds::Deployment, "other");
  EXPECT_TRUE(none.found()) << "no match is an empty list";
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(host_.cacheReads()[0], json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
      "namespace": "ns", "name": "web"})"));
  EXPECT_FALSE(host_.cacheReads().back().contains("name")) << "a list has no name";
}

class SdkClientReadFailure : public SdkClient, public ::testing::WithParamInterface<int32_t> {};

TEST_P(SdkClientReadFailure, IsAnErrorNotAbsence) {
  host_.cluster().put(object_);
  host_.failReads({}, GetParam());
  const std::string name = detail::statusName(GetParam());
  auto got = client_.get(kinds::Deployment, "ns", "web");
  EXPECT_TRUE(got.failed());
  EXPECT_FALSE(got.found());
  EXPECT_FALSE(got.notFound());
  EXPECT_EQ(got.status(), GetParam());
  EXPECT_NE(got.error().find(name), std::string::npos) << got.error();
  EXPECT_NE(got.error().find("Deployment ns/web"), std::string::npos) << got.error();
  auto listed = client_.list(kinds::Deployment, "ns", "app=web");
  EXPECT_TRUE(listed.failed());
  EXPECT_EQ(listed.status(), GetParam());
  EXPECT_TRUE(listed->empty());
  EXPECT_NE(listed.error().find(name), std::string::npos) << listed.error();
}

INSTANTIATE_TEST_SUITE_P(HostStatuses, SdkClientReadFailure,
                         ::testing::Values(WOP_ERR_FORBIDDEN, WOP_ERR_UNAVAILABLE, WOP_ERR_LIMIT,
                                           WOP_ERR_INVALID_ARGUMENT),
                         [](const auto& info) {
                           return std::string(detail::statusName(info.param));
                         });

TEST_F(SdkClient, AnAnswerThatIsNotAnObjectIsAnError) {
  struct GarbledHost : FakeHost {
    int32_t cacheRead(std::string_view, std::string* out) override {
      *out = "not json";
      return WOP_OK;
    }
  } garbled;
  detail::Runtime runtime(garbled);
  auto listed = runtime.client().list(kinds::Deployment, "ns");
  EXPECT_TRUE(listed.failed());
  EXPECT_NE(listed.error().find("not a JSON object"), std::string::npos) << listed.error();
}

TEST_F(SdkClient, WritesTakeTheirTargetFromTheObject) {
  for (auto [call, verb] :
       {std::pair{client_.create(object_), "create"}, std::pair{client_.update(object_), "update"},
        std::pair{client_.updateStatus(object_), "updateStatus"}}) {
    auto request = sent(std::move(call));
    EXPECT_EQ(request["verb"], verb);
    EXPECT_EQ(request["apiVersion"], "apps/v1");
    EXPECT_EQ(request["kind"], "Deployment");
    EXPECT_EQ(request["namespace"], "ns");
    EXPECT_EQ(request["name"], "web");
    EXPECT_EQ(request["body"], object_);
  }
}

TEST_F(SdkClient, PatchApplyDeleteAndEvent) {
  auto patch = sent(client_.patch(object_, {{"spec", {{"replicas", 2}}}}, PatchType::Strategic));
  EXPECT_EQ(patch["patchType"], "strategic");
  EXPECT_EQ(patch["body"]["spec"]["replicas"], 2);

  auto apply = sent(client_.apply(object_, "me"));
  EXPECT_EQ(apply["verb"], "apply");
  EXPECT_EQ(apply["fieldManager"], "me");
  EXPECT_EQ(apply["force"], true);

  auto remove = sent(client_.remove(object_, "Foreground"));
  EXPECT_EQ(remove["verb"], "delete");
  EXPECT_EQ(remove["propagationPolicy"], "Foreground");
  EXPECT_FALSE(sent(client_.remove(kinds::Pod, "ns", "p")).contains("propagationPolicy"));

  auto event = sent(client_.recordEvent(object_, "Warning", "Broken", "it broke"));
  EXPECT_EQ(event["verb"], "event");
  EXPECT_EQ(event["namespace"], "ns");
  EXPECT_EQ(event["body"], json::parse(R"({"involvedObject": {"apiVersion": "apps/v1",
      "kind": "Deployment", "namespace": "ns", "name": "web", "uid": "u-1",
      "resourceVersion": "3"}, "type": "Warning", "reason": "Broken", "message": "it broke"})"));

  auto live = sent(client_.listLive(kinds::Pod, "ns", "app=web"));
  EXPECT_EQ(live["verb"], "list");
  EXPECT_EQ(live["labelSelector"], "app=web");
  EXPECT_FALSE(live.contains("name"));
}

TEST_F(SdkClient, ACallIsSentOnlyWhenAwaited) {
  {
    auto call = client_.create(object_);
    EXPECT_TRUE(host_.calls().empty());
  }
  EXPECT_TRUE(host_.calls().empty());
}

TEST_F(SdkClient, PatchStatusPatchesTheStatusSubresourceOfTheObject) {
  auto patch = sent(client_.patchStatus(object_, {{"status", {{"readyReplicas", 2}}}}));
  EXPECT_EQ(patch["verb"], "patch");
  EXPECT_EQ(patch["subresource"], WOP_SUBRESOURCE_STATUS);
  EXPECT_EQ(patch["patchType"], "merge");
  EXPECT_EQ(patch["namespace"], "ns");
  EXPECT_EQ(patch["name"], "web");
  EXPECT_EQ(patch["body"], json::parse(R"({"status": {"readyReplicas": 2}})"));
  auto jsonPatch = sent(client_.patchStatus(
      object_, json::parse(R"([{"op": "remove", "path": "/status/x"}])"), PatchType::Json));
  EXPECT_EQ(jsonPatch["patchType"], "json");
  EXPECT_FALSE(sent(client_.patch(object_, json::object())).contains("subresource"))
      << "a plain patch is of the object itself";
}

TEST_F(SdkClient, ApplyStatusSendsOnlyTheIdentityAndTheStatus) {
  json object = object_;
  object["spec"] = {{"replicas", 3}};
  object["metadata"]["labels"] = {{"app", "web"}};
  object["status"] = {{"readyReplicas", 3}};
  auto apply = sent(client_.applyStatus(object, "web-status", /*force=*/false));
  EXPECT_EQ(apply["verb"], "apply");
  EXPECT_EQ(apply["subresource"], WOP_SUBRESOURCE_STATUS);
  EXPECT_EQ(apply["fieldManager"], "web-status");
  EXPECT_EQ(apply["force"], false);
  EXPECT_EQ(apply["body"], json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
      "metadata": {"name": "web", "namespace": "ns"}, "status": {"readyReplicas": 3}})"));
  json clusterScoped = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "a"}}}};
  auto applied = sent(client_.applyStatus(clusterScoped, "m"));
  EXPECT_EQ(applied["body"]["metadata"], json::parse(R"({"name": "a"})"));
  EXPECT_EQ(applied["body"]["status"], json::object()) << "no status: an empty intent";
}

}  // namespace
}  // namespace wop::sdk
