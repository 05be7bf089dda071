#include "wop/object.h"

#include <gtest/gtest.h>

#include "wop/client.h"
#include "wop/runtime.h"
#include "wop/testing/fake_host.h"

namespace wop::sdk {
namespace {

using wop::testing::FakeHost;

json configMap() {
  return json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"namespace": "ns", "name": "cm", "uid": "u-cm", "resourceVersion": "12",
                 "finalizers": ["other/keep"], "labels": {"a": "1"}}})");
}

TEST(SdkFinalizer, AddAndRemoveEditTheList) {
  auto object = configMap();
  EXPECT_FALSE(hasFinalizer(object, "x/cleanup"));
  EXPECT_TRUE(addFinalizer(object, "x/cleanup"));
  EXPECT_FALSE(addFinalizer(object, "x/cleanup")) << "adding twice changes nothing";
  EXPECT_TRUE(hasFinalizer(object, "x/cleanup"));
  EXPECT_EQ(object["metadata"]["finalizers"], json::parse(R"(["other/keep", "x/cleanup"])"));
  EXPECT_TRUE(removeFinalizer(object, "x/cleanup"));
  EXPECT_FALSE(removeFinalizer(object, "x/cleanup"));
  EXPECT_EQ(object["metadata"]["finalizers"], json::parse(R"(["other/keep"])"));
}

TEST(SdkFinalizer, WorksOnObjectsWithoutMetadata) {
  json object = json::object();
  EXPECT_FALSE(hasFinalizer(object, "f"));
  EXPECT_FALSE(isBeingDeleted(object));
  EXPECT_TRUE(addFinalizer(object, "f"));
  EXPECT_EQ(object["metadata"]["finalizers"], json::parse(R"(["f"])"));
  json weird = json::parse(R"({"metadata": {"finalizers": "not a list"}})");
  EXPECT_FALSE(hasFinalizer(weird, "f"));
  EXPECT_FALSE(removeFinalizer(weird, "f"));
}

TEST(SdkFinalizer, PatchIsGuardedByResourceVersion) {
  auto object = configMap();
  addFinalizer(object, "x/cleanup");
  EXPECT_EQ(finalizersPatch(object), json::parse(R"({"metadata": {
      "finalizers": ["other/keep", "x/cleanup"], "resourceVersion": "12"}})"));
}

TEST(SdkFinalizer, DeletionTimestampMeansBeingDeleted) {
  auto object = configMap();
  EXPECT_FALSE(isBeingDeleted(object));
  object["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z";
  EXPECT_TRUE(isBeingDeleted(object));
}

detail::Detached await(Call call, Response& out) { out = co_await std::move(call); }

TEST(SdkFinalizer, ClientPatchesOnlyWhenSomethingChanges) {
  FakeHost host;
  detail::Runtime runtime(host);
  Response response;
  await(runtime.client().removeFinalizer(configMap(), "x/cleanup"), response);
  EXPECT_TRUE(host.calls().empty()) << "nothing to remove: no call";
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.json(), configMap());

  await(runtime.client().addFinalizer(configMap(), "x/cleanup"), response);
  ASSERT_EQ(host.calls().size(), 1u);
  EXPECT_EQ(host.calls()[0].request["verb"], "patch");
  EXPECT_EQ(host.calls()[0].request["patchType"], "merge");
  EXPECT_EQ(host.calls()[0].request["name"], "cm");
  EXPECT_EQ(host.calls()[0].request["body"]["metadata"]["finalizers"][1], "x/cleanup");
  runtime.complete(1, 200, "{}");  // let the waiting coroutine finish (and free its frame)
}

TEST(SdkOwnerReference, SetControllerReferenceAddsOneController) {
  auto owner = configMap();
  json child = {{"metadata", {{"namespace", "ns"}, {"name", "child"}}}};
  ASSERT_TRUE(setControllerReference(owner, child));
  EXPECT_EQ(child["metadata"]["ownerReferences"], json::parse(R"([{"apiVersion": "v1",
      "kind": "ConfigMap", "name": "cm", "uid": "u-cm", "controller": true,
      "blockOwnerDeletion": true}])"));
  EXPECT_TRUE(setControllerReference(owner, child)) << "already ours";
  EXPECT_EQ(child["metadata"]["ownerReferences"].size(), 1u);
  EXPECT_EQ(controllerOf(child)->value("uid", ""), "u-cm");

  auto other = configMap();
  other["metadata"]["uid"] = "u-other";
  EXPECT_FALSE(setControllerReference(other, child)) << "a second controller is refused";
}

TEST(SdkOwnerReference, RefusesCrossNamespaceAndIncompleteOwners) {
  auto owner = configMap();
  json elsewhere = {{"metadata", {{"namespace", "other"}, {"name", "child"}}}};
  EXPECT_FALSE(setControllerReference(owner, elsewhere));
  EXPECT_FALSE(elsewhere["metadata"].contains("ownerReferences"));
  json noUid = {{"metadata", {{"name", "x"}}}};
  json child = {{"metadata", {{"name", "child"}}}};
  EXPECT_FALSE(setControllerReference(noUid, child));
}

TEST(SdkObject, AccessorsNeverFailOnOddShapes) {
  auto object = configMap();
  EXPECT_EQ(keyOf(object), "ns/cm");
  EXPECT_EQ(label(object, "a"), "1");
  EXPECT_EQ(label(object, "b"), std::nullopt);
  EXPECT_EQ(annotation(object, "a"), std::nullopt);
  setAnnotation(object, "note", "hi");
  EXPECT_EQ(annotation(object, "note"), "hi");
  EXPECT_EQ(getInt(object, {"metadata", "name"}), std::nullopt);
  EXPECT_EQ(getString(json(5), {"metadata", "name"}), std::nullopt);
  EXPECT_EQ(nameOf(json::array()), "");
  EXPECT_EQ(keyOf(json::parse(R"({"metadata": {"name": "node"}})")), "node");
}

}  // namespace
}  // namespace wop::sdk
