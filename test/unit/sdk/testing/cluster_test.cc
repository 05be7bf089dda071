// The fake cluster answers as the API server does, for what operators rely on.
#include "wop/testing/cluster.h"

#include <gtest/gtest.h>

#include "wop/object.h"

namespace wop::testing {
namespace {

using sdk::kinds::ConfigMap;

json configMap(const std::string& ns, const std::string& name, json data = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"namespace", ns}, {"name", name}}},
          {"data", std::move(data)}};
}

json request(const char* verb, const json& object) {
  return {{"verb", verb},
          {"apiVersion", object["apiVersion"]},
          {"kind", object["kind"]},
          {"namespace", sdk::namespaceOf(object)},
          {"name", sdk::nameOf(object)},
          {"body", object}};
}

json reason(const sdk::Response& response) { return response.json().value("reason", ""); }

TEST(TestingCluster, CreateFillsWhatTheServerOwnsAndRefusesATakenName) {
  Cluster cluster;
  auto created = cluster.serve(request("create", configMap("ns", "a")));
  ASSERT_EQ(created.status, 201) << created.body;
  auto object = created.json();
  EXPECT_FALSE(sdk::uidOf(object).empty());
  EXPECT_FALSE(sdk::resourceVersionOf(object).empty());
  EXPECT_EQ(object["metadata"]["generation"], 1);
  auto again = cluster.serve(request("create", configMap("ns", "a")));
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(reason(again), "Conflict");
  EXPECT_NE(again.errorMessage().find("already exists"), std::string::npos);
}

TEST(TestingCluster, GenerateNameAndMissingNames) {
  Cluster cluster;
  json unnamed = configMap("ns", "");
  unnamed["metadata"].erase("name");
  EXPECT_EQ(cluster.serve(request("create", unnamed)).status, 422);
  unnamed["metadata"]["generateName"] = "job-";
  auto created = cluster.serve(request("create", unnamed));
  ASSERT_EQ(created.status, 201);
  EXPECT_TRUE(sdk::nameOf(created.json()).starts_with("job-"));
}

TEST(TestingCluster, AStaleResourceVersionIsAConflict) {
  Cluster cluster;
  json stored = cluster.put(configMap("ns", "a", {{"k", "1"}}));
  json first = stored, second = stored;
  first["data"]["k"] = "2";
  second["data"]["k"] = "3";
  EXPECT_EQ(cluster.serve(request("update", first)).status, 200);
  auto lost = cluster.serve(request("update", second));
  EXPECT_EQ(lost.status, 409);
  EXPECT_EQ((*cluster.find(ConfigMap, "ns", "a"))["data"]["k"], "2");
  // A merge patch carrying the old resourceVersion is refused too; one without is applied.
  json guarded = {{"metadata", {{"resourceVersion", sdk::resourceVersionOf(stored)}}},
                  {"data", {{"k", "4"}}}};
  auto patch = request("patch", stored);
  patch["body"] = guarded;
  EXPECT_EQ(cluster.serve(patch).status, 409);
  patch["body"] = {{"data", {{"k", "4"}}}};
  EXPECT_EQ(cluster.serve(patch).status, 200);
  EXPECT_EQ((*cluster.find(ConfigMap, "ns", "a"))["data"]["k"], "4");
}

TEST(TestingCluster, MissingObjectsAreNotFound) {
  Cluster cluster;
  for (const char* verb : {"get", "update", "patch", "delete"}) {
    auto answer = cluster.serve(request(verb, configMap("ns", "nope")));
    EXPECT_EQ(answer.status, 404) << verb;
    EXPECT_EQ(reason(answer), "NotFound") << verb;
  }
}

TEST(TestingCluster, GenerationCountsChangesOutsideMetadataAndStatus) {
  Cluster cluster;
  json object = cluster.put(configMap("ns", "a", {{"k", "1"}}));
  sdk::setLabel(object, "x", "y");
  object = cluster.serve(request("update", object)).json();
  EXPECT_EQ(object["metadata"]["generation"], 1) << "a label is metadata";
  object["data"]["k"] = "2";
  object = cluster.serve(request("update", object)).json();
  EXPECT_EQ(object["metadata"]["generation"], 2);
}

TEST(TestingCluster, StatusIsASubresource) {
  Cluster cluster;
  json object = cluster.put({{"apiVersion", "example.dev/v1"},
                             {"kind", "Widget"},
                             {"metadata", {{"namespace", "ns"}, {"name", "w"}}},
                             {"spec", {{"size", 1}}}});
  json withStatus = object;
  withStatus["status"] = {{"ready", true}};
  withStatus["spec"]["size"] = 2;
  auto updated = cluster.serve(request("updateStatus", withStatus)).json();
  EXPECT_EQ(updated["status"]["ready"], true);
  EXPECT_EQ(updated["spec"]["size"], 1) << "updateStatus changes only the status";
  EXPECT_EQ(updated["metadata"]["generation"], 1);
  updated["status"]["ready"] = false;
  updated["spec"]["size"] = 3;
  auto main = cluster.serve(request("update", updated)).json();
  EXPECT_EQ(main["status"]["ready"], true) << "an update keeps the stored status";
  EXPECT_EQ(main["spec"]["size"], 3);
}

TEST(TestingCluster, FinalizersHoldADeletion) {
  Cluster cluster;
  json object = configMap("ns", "a");
  object["metadata"]["finalizers"] = {"x/cleanup"};
  object = cluster.put(object);
  auto deleting = cluster.serve(request("delete", object));
  EXPECT_EQ(deleting.status, 200);
  ASSERT_NE(cluster.find(ConfigMap, "ns", "a"), nullptr);
  object = *cluster.find(ConfigMap, "ns", "a");
  EXPECT_TRUE(sdk::isBeingDeleted(object));
  json more = object;
  sdk::addFinalizer(more, "y/other");
  EXPECT_EQ(cluster.serve(request("update", more)).status, 422) << "no new finalizers now";
  sdk::removeFinalizer(object, "x/cleanup");
  auto patch = request("patch", object);
  patch["body"] = sdk::finalizersPatch(object);
  EXPECT_EQ(cluster.serve(patch).status, 200);
  EXPECT_EQ(cluster.find(ConfigMap, "ns", "a"), nullptr) << "the last finalizer went";
}

TEST(TestingCluster, DeletingAnOwnerCollectsItsDependents) {
  Cluster cluster;
  json owner = cluster.put(configMap("ns", "owner"));
  json child = configMap("ns", "child");
  ASSERT_TRUE(sdk::setControllerReference(owner, child));
  cluster.put(child);
  json shared = configMap("ns", "shared");
  json other = cluster.put(configMap("ns", "other"));
  shared["metadata"]["ownerReferences"] = {sdk::ownerReference(owner, false),
                                           sdk::ownerReference(other, false)};
  cluster.put(shared);
  EXPECT_EQ(cluster.remove(ConfigMap, "ns", "owner").status, 200);
  EXPECT_EQ(cluster.find(ConfigMap, "ns", "child"), nullptr);
  EXPECT_NE(cluster.find(ConfigMap, "ns", "shared"), nullptr) << "another owner still exists";
}

TEST(TestingCluster, JsonPatchAndItsFailures) {
  Cluster cluster;
  json object = cluster.put(configMap("ns", "a", {{"k", "1"}}));
  auto patch = request("patch", object);
  patch["patchType"] = "json";
  patch["body"] = json::parse(R"([{"op": "replace", "path": "/data/k", "value": "2"}])");
  EXPECT_EQ(cluster.serve(patch).status, 200);
  EXPECT_EQ((*cluster.find(ConfigMap, "ns", "a"))["data"]["k"], "2");
  patch["body"] = json::parse(R"([{"op": "test", "path": "/data/k", "value": "9"}])");
  EXPECT_EQ(cluster.serve(patch).status, 422);
}

TEST(TestingCluster, ApplyMergesOwnsAndForgetsWhatItNoLongerApplies) {
  Cluster cluster;
  auto apply = [&](json intent, const char* manager, bool force) {
    auto call = request("apply", intent);
    call["fieldManager"] = manager;
    call["force"] = force;
    return cluster.serve(call);
  };
  EXPECT_EQ(apply(configMap("ns", "a", {{"x", "1"}, {"y", "1"}}), "me", true).status, 201);
  EXPECT_EQ(apply(configMap("ns", "a", {{"z", "1"}}), "you", true).status, 200);
  EXPECT_EQ(apply(configMap("ns", "a", {{"x", "2"}}), "me", true).status, 200);
  EXPECT_EQ((*cluster.find(ConfigMap, "ns", "a"))["data"], json({{"x", "2"}, {"z", "1"}}))
      << "y dropped by its manager, z kept for the other";
  auto conflict = apply(configMap("ns", "a", {{"z", "2"}}), "me", false);
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(apply(configMap("ns", "a", {{"x", "2"}, {"z", "2"}}), "me", true).status, 200);
}

TEST(TestingCluster, ListsFilterByNamespaceAndLabels) {
  Cluster cluster;
  for (auto [ns, name, app] :
       {std::tuple{"a", "1", "web"}, std::tuple{"a", "2", "db"}, std::tuple{"b", "3", "web"}}) {
    json object = configMap(ns, name);
    sdk::setLabel(object, "app", app);
    cluster.put(object);
  }
  EXPECT_EQ(cluster.list(ConfigMap, "", "app=web").size(), 2u);
  EXPECT_EQ(cluster.list(ConfigMap, "a").size(), 2u);
  EXPECT_EQ(cluster.list(ConfigMap, "a", "app in (web,db),app!=db").size(), 1u);
  EXPECT_EQ(cluster.list(ConfigMap, "", "!app").size(), 0u);
  auto listed = cluster.serve({{"verb", "list"},
                               {"apiVersion", "v1"},
                               {"kind", "ConfigMap"},
                               {"namespace", "b"},
                               {"labelSelector", "app"}});
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.json()["kind"], "ConfigMapList");
  EXPECT_EQ(listed.json()["items"].size(), 1u);
}

}  // namespace
}  // namespace wop::testing
