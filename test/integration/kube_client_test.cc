// The Kubernetes client against the real API server of the test control plane.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "kube/discovery.h"
#include "support/kube_test_env.h"
#include "support/test_kube_client.h"

namespace wop::testing {
namespace {

using kube::ApiReason;
using kube::PatchType;
using ::testing::HasSubstr;

nlohmann::json configMap(const std::string& ns, const std::string& name, nlohmann::json data) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"data", std::move(data)}};
}

class KubeClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = adminClient();
    ASSERT_NE(client_, nullptr);
    ensureNamespace(*client_, ns_);
  }
  std::unique_ptr<kube::Client> client_;
  const std::string ns_ = "client-test";
};

TEST_F(KubeClientTest, CreatesReadsUpdatesPatchesAndDeletesAConfigMap) {
  auto& c = *client_;
  removeIfPresent(c, kConfigMaps, ns_, "crud");
  auto created = c.create(kConfigMaps, ns_, configMap(ns_, "crud", {{"a", "1"}}).dump());
  ASSERT_TRUE(created) << created.error().toString();

  auto read = c.get(kConfigMaps, ns_, "crud");
  ASSERT_TRUE(read) << read.error().toString();
  auto object = parseJson(*read);
  EXPECT_EQ(object["data"]["a"], "1");

  object["data"]["b"] = "2";
  auto updated = c.update(kConfigMaps, ns_, "crud", object.dump());
  ASSERT_TRUE(updated) << updated.error().toString();
  EXPECT_EQ(parseJson(*updated)["data"]["b"], "2");

  auto merged = c.patch(kConfigMaps, ns_, "crud", PatchType::kJsonMerge, R"({"data":{"c":"3"}})");
  ASSERT_TRUE(merged) << merged.error().toString();
  auto jsonPatched = c.patch(kConfigMaps, ns_, "crud", PatchType::kJsonPatch,
                             R"([{"op":"remove","path":"/data/a"}])");
  ASSERT_TRUE(jsonPatched) << jsonPatched.error().toString();
  auto strategic = c.patch(kConfigMaps, ns_, "crud", PatchType::kStrategicMerge,
                           R"({"metadata":{"labels":{"patched":"yes"}}})");
  ASSERT_TRUE(strategic) << strategic.error().toString();
  auto final = parseJson(*strategic);
  EXPECT_EQ(final["data"], nlohmann::json({{"b", "2"}, {"c", "3"}}));
  EXPECT_EQ(final["metadata"]["labels"]["patched"], "yes");

  auto removed = c.remove(kConfigMaps, ns_, "crud");
  ASSERT_TRUE(removed) << removed.error().toString();
  auto gone = c.get(kConfigMaps, ns_, "crud");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().reason, ApiReason::kNotFound);
  EXPECT_THAT(gone.error().message, HasSubstr("crud"));
}

TEST_F(KubeClientTest, AStaleUpdateIsAConflictAndADuplicateCreateAlreadyExists) {
  auto& c = *client_;
  removeIfPresent(c, kConfigMaps, ns_, "stale");
  ASSERT_TRUE(c.create(kConfigMaps, ns_, configMap(ns_, "stale", {{"v", "1"}}).dump()));
  auto duplicate = c.create(kConfigMaps, ns_, configMap(ns_, "stale", {{"v", "1"}}).dump());
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().reason, ApiReason::kAlreadyExists);

  auto first = parseJson(*c.get(kConfigMaps, ns_, "stale"));
  auto second = first;
  first["data"]["v"] = "2";
  ASSERT_TRUE(c.update(kConfigMaps, ns_, "stale", first.dump()));
  second["data"]["v"] = "3";  // still carries the old resourceVersion
  auto conflict = c.update(kConfigMaps, ns_, "stale", second.dump());
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().reason, ApiReason::kConflict);
  EXPECT_EQ(conflict.error().httpStatus, 409);
}

TEST_F(KubeClientTest, DeletePreconditionsAndPropagationAreHonoured) {
  auto& c = *client_;
  removeIfPresent(c, kConfigMaps, ns_, "guarded");
  ASSERT_TRUE(c.create(kConfigMaps, ns_, configMap(ns_, "guarded", {}).dump()));
  auto wrongUid = c.remove(kConfigMaps, ns_, "guarded", {.preconditionUid = "not-the-uid"});
  ASSERT_FALSE(wrongUid);
  EXPECT_EQ(wrongUid.error().reason, ApiReason::kConflict);
  const std::string uid = parseJson(*c.get(kConfigMaps, ns_, "guarded"))["metadata"]["uid"];
  EXPECT_TRUE(c.remove(kConfigMaps, ns_, "guarded",
                       {.propagationPolicy = "Foreground", .preconditionUid = uid}));
}

TEST_F(KubeClientTest, ServerSideApplyByTwoFieldManagers) {
  auto& c = *client_;
  removeIfPresent(c, kConfigMaps, ns_, "applied");
  const std::string byAlice = configMap(ns_, "applied", {{"owner", "alice"}}).dump();
  ASSERT_TRUE(
      c.patch(kConfigMaps, ns_, "applied", PatchType::kApply, byAlice, {.fieldManager = "alice"}));

  const std::string byBob = configMap(ns_, "applied", {{"owner", "bob"}}).dump();
  auto refused =
      c.patch(kConfigMaps, ns_, "applied", PatchType::kApply, byBob, {.fieldManager = "bob"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, ApiReason::kConflict);
  EXPECT_THAT(refused.error().message, HasSubstr("alice"));

  auto forced = c.patch(kConfigMaps, ns_, "applied", PatchType::kApply, byBob,
                        {.fieldManager = "bob", .force = true});
  ASSERT_TRUE(forced) << forced.error().toString();
  auto object = parseJson(*forced);
  EXPECT_EQ(object["data"]["owner"], "bob");
  std::vector<std::string> managers;
  for (const auto& entry : object["metadata"]["managedFields"])
    managers.push_back(entry["manager"]);
  EXPECT_THAT(managers, ::testing::Contains("bob"));
}

TEST_F(KubeClientTest, PaginatesAListOfMoreThanAThousandObjects) {
  auto& c = *client_;
  const std::string ns = "client-test-pages";
  ensureNamespace(c, ns);
  const int total = 1100;
  auto existing = parseJson(*c.list(kConfigMaps, ns, {}));
  int have = static_cast<int>(existing["items"].size());
  for (int i = have; i < total + 1; ++i) {  // + kube-root-ca.crt, which the controller adds
    auto created =
        c.create(kConfigMaps, ns,
                 configMap(ns, "page-" + std::to_string(i), {{"i", std::to_string(i)}}).dump());
    if (!created)
      ASSERT_EQ(created.error().reason, ApiReason::kAlreadyExists) << created.error().toString();
  }
  int seen = 0, pages = 0;
  std::string continueToken;
  do {
    auto page = c.list(kConfigMaps, ns, {.limit = 400, .continueToken = continueToken});
    ASSERT_TRUE(page) << page.error().toString();
    auto json = parseJson(*page);
    seen += static_cast<int>(json["items"].size());
    continueToken = json["metadata"].value("continue", "");
    ++pages;
  } while (!continueToken.empty());
  EXPECT_GE(seen, total);
  EXPECT_GE(pages, 3);
}

TEST_F(KubeClientTest, DiscoveryFindsACrdInstalledAfterStart) {
  auto& c = *client_;
  auto before = c.discovery().forKind("v1", "ConfigMap");
  ASSERT_TRUE(before) << before.error().toString();
  EXPECT_EQ(before->gvr.resource, "configmaps");
  EXPECT_TRUE(before->namespaced);

  // A CRD of its own (group unique to this test), installed now, after the first discovery.
  const kube::ResourceInfo crds{{"apiextensions.k8s.io", "v1", "customresourcedefinitions"},
                                "CustomResourceDefinition",
                                false};
  nlohmann::json crd =
      loadYamlAsJson(std::string(WOP_SOURCE_DIR) + "/deploy/crds/testresources.yaml");
  crd["metadata"]["name"] = "widgets.late.wasm-operator.dev";
  crd["spec"]["group"] = "late.wasm-operator.dev";
  crd["spec"]["names"] = {{"plural", "widgets"},
                          {"singular", "widget"},
                          {"kind", "Widget"},
                          {"listKind", "WidgetList"}};
  auto missing = c.discovery().forKind("late.wasm-operator.dev/v1", "Widget");
  auto created = c.create(crds, "", crd.dump());
  if (!created) ASSERT_EQ(created.error().reason, ApiReason::kAlreadyExists);
  if (created) {
    EXPECT_FALSE(missing);  // not served before the CRD existed
  }
  kube::ApiResult<kube::ResourceInfo> found = kube::decodeError("not yet");
  ASSERT_TRUE(eventually([&] {
    return static_cast<bool>(found = c.discovery().forKind("late.wasm-operator.dev/v1", "Widget"));
  }));
  EXPECT_EQ(found->gvr.resource, "widgets");

  // The new resource works end to end, including the status subresource.
  ensureNamespace(c, "client-test-crd");
  nlohmann::json widget = {{"apiVersion", "late.wasm-operator.dev/v1"},
                           {"kind", "Widget"},
                           {"metadata", {{"name", "w1"}}},
                           {"spec", {{"nonce", 5}}}};
  removeIfPresent(c, *found, "client-test-crd", "w1");
  auto stored = kube::ApiResult<std::string>(kube::decodeError("none"));
  ASSERT_TRUE(eventually([&] {
    return static_cast<bool>(stored = c.create(*found, "client-test-crd", widget.dump()));
  })) << stored.error().toString();
  auto object = parseJson(*stored);
  object["status"] = {{"observedNonce", 5}};
  object["spec"]["nonce"] = 99;  // ignored by the status subresource
  auto status = c.updateStatus(*found, "client-test-crd", "w1", object.dump());
  ASSERT_TRUE(status) << status.error().toString();
  auto after = parseJson(*status);
  EXPECT_EQ(after["status"]["observedNonce"], 5);
  EXPECT_EQ(after["spec"]["nonce"], 5);
}

TEST_F(KubeClientTest, ImpersonationIsSubjectToRbac) {
  auto& c = *client_;
  const kube::RequestOptions asDefaultAccount{.impersonateUser =
                                                  "system:serviceaccount:default:default"};
  auto read = c.list(kSecrets, "default", {}, asDefaultAccount);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().reason, ApiReason::kForbidden);
  EXPECT_THAT(read.error().message, HasSubstr("system:serviceaccount:default:default"));

  nlohmann::json secret = {{"apiVersion", "v1"},
                           {"kind", "Secret"},
                           {"metadata", {{"name", "nope"}, {"namespace", "default"}}}};
  auto write = c.create(kSecrets, "default", secret.dump(), {}, asDefaultAccount);
  ASSERT_FALSE(write);
  EXPECT_EQ(write.error().reason, ApiReason::kForbidden);

  EXPECT_TRUE(c.list(kSecrets, "default", {}));  // the admin itself may
}

}  // namespace
}  // namespace wop::testing
