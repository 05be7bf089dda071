#include "kube/request.h"

#include <gtest/gtest.h>

namespace wop::kube {
namespace {

const ResourceInfo kPods{{"", "v1", "pods"}, "Pod", true};
const ResourceInfo kTestResources{
    {"bench.wasm-operator.dev", "v1", "testresources"}, "TestResource", true};
const ResourceInfo kNamespaces{{"", "v1", "namespaces"}, "Namespace", false};

TEST(Request, CorePathsStartWithApi) {
  EXPECT_EQ(collectionPath(kPods, "shop"), "/api/v1/namespaces/shop/pods");
  EXPECT_EQ(collectionPath(kPods, ""), "/api/v1/pods");
  EXPECT_EQ(objectPath(kPods, "shop", "web-0", "status"),
            "/api/v1/namespaces/shop/pods/web-0/status");
}

TEST(Request, GroupPathsStartWithApis) {
  EXPECT_EQ(objectPath(kTestResources, "ring-1", "a"),
            "/apis/bench.wasm-operator.dev/v1/namespaces/ring-1/testresources/a");
}

TEST(Request, ClusterScopedResourcesIgnoreTheNamespace) {
  EXPECT_EQ(objectPath(kNamespaces, "ignored", "ring-1"), "/api/v1/namespaces/ring-1");
}

TEST(Request, ListEncodesSelectorsAndPagination) {
  auto request = listRequest(
      kPods, "shop",
      {.labelSelector = "app in (web,api),tier!=db", .limit = 500, .continueToken = "abc=="});
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path,
            "/api/v1/namespaces/shop/pods?labelSelector=app%20in%20%28web%2Capi%29%2Ctier%21%3Ddb"
            "&limit=500&continue=abc%3D%3D");
}

TEST(Request, WatchAsksForBookmarksAndATimeout) {
  auto request = watchRequest(kPods, "", {.resourceVersion = "123", .timeoutSeconds = 300});
  EXPECT_TRUE(request.streaming);
  EXPECT_EQ(
      request.path,
      "/api/v1/pods?watch=true&resourceVersion=123&allowWatchBookmarks=true&timeoutSeconds=300");
}

TEST(Request, WritesCarryTheirContentType) {
  EXPECT_EQ(createRequest(kPods, "a", "{}").contentType, "application/json");
  EXPECT_EQ(patchRequest(kPods, "a", "x", PatchType::kJsonMerge, "{}").contentType,
            "application/merge-patch+json");
  EXPECT_EQ(patchRequest(kPods, "a", "x", PatchType::kJsonPatch, "[]").contentType,
            "application/json-patch+json");
  EXPECT_EQ(patchRequest(kPods, "a", "x", PatchType::kStrategicMerge, "{}").contentType,
            "application/strategic-merge-patch+json");
  auto status = updateRequest(kPods, "a", "x", "{}", {.fieldManager = "op"}, "status");
  EXPECT_EQ(status.method, "PUT");
  EXPECT_EQ(status.path, "/api/v1/namespaces/a/pods/x/status?fieldManager=op");
}

TEST(Request, ForceIsOnlySentWithApply) {
  auto merge = patchRequest(kPods, "a", "x", PatchType::kJsonMerge, "{}",
                            {.fieldManager = "m", .force = true});
  EXPECT_EQ(merge.path.find("force"), std::string::npos);
  auto apply =
      patchRequest(kPods, "a", "x", PatchType::kApply, "{}", {.fieldManager = "m", .force = true});
  EXPECT_NE(apply.path.find("force=true"), std::string::npos);
}

TEST(Request, DeleteOptionsGoInTheBody) {
  auto request = deleteRequest(kPods, "a", "x",
                               {.propagationPolicy = "Background",
                                .gracePeriodSeconds = 0,
                                .preconditionResourceVersion = "7"});
  EXPECT_EQ(request.method, "DELETE");
  EXPECT_EQ(
      request.body,
      R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background","gracePeriodSeconds":0,"preconditions":{"resourceVersion":"7"}})");
}

}  // namespace
}  // namespace wop::kube
