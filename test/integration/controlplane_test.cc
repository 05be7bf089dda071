// Proof that the test control plane is real: a CRD installed at run time serves objects over
// HTTPS, and RBAC denies an identity without rights. Runs against the control plane that the
// CTest fixture started (WOP_TESTENV_DIR).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/test_kube_client.h"

namespace wop::testing {
namespace {

constexpr const char* kCrdPath =
    "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/testresources.bench.wasm-operator.dev";
constexpr const char* kTestResources =
    "/apis/bench.wasm-operator.dev/v1/namespaces/%s/testresources";

std::string testResourcesPath(const std::string& ns) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, kTestResources, ns.c_str());
  return buffer;
}

bool crdEstablished(TestKubeClient& client) {
  auto crd = client.get(kCrdPath).json();
  if (crd.is_discarded()) return false;
  for (const auto& condition : crd["status"].value("conditions", nlohmann::json::array())) {
    if (condition.value("type", "") == "Established" && condition.value("status", "") == "True") {
      return true;
    }
  }
  return false;
}

// Installs the TestResource CRD (if absent) and waits until the API server serves it.
void installTestResourceCrd(TestKubeClient& client) {
  auto crd = loadYamlAsJson(std::string(WOP_SOURCE_DIR) + "/deploy/crds/testresources.yaml");
  auto created = client.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  ASSERT_TRUE(created.status == 201 || created.status == 409) << created.body;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!crdEstablished(client)) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "CRD not Established in 30 s";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

class ControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(testenvDir().empty()) << "WOP_TESTENV_DIR is not set: run through ctest";
  }
  TestKubeClient admin_{testenvDir() + "/kubeconfig"};
  TestKubeClient unprivileged_{testenvDir() + "/kubeconfig-unprivileged"};
};

TEST_F(ControlPlaneTest, ServesTheVersionItWasBuiltAt) {
  auto version = admin_.get("/version");
  ASSERT_EQ(version.status, 200) << version.body;
  EXPECT_EQ(version.json()["gitVersion"], "v" WOP_KUBERNETES_VERSION);
}

TEST_F(ControlPlaneTest, CreatesAndReadsBackACustomResource) {
  installTestResourceCrd(admin_);
  const std::string ns = "foundation-crd";
  auto nsCreated =
      admin_.post("/api/v1/namespaces",
                  {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
  ASSERT_TRUE(nsCreated.status == 201 || nsCreated.status == 409) << nsCreated.body;

  nlohmann::json object = {
      {"apiVersion", "bench.wasm-operator.dev/v1"},
      {"kind", "TestResource"},
      {"metadata", {{"name", "ring-object"}, {"namespace", ns}}},
      {"spec", {{"nonce", 7}}},
  };
  admin_.del(testResourcesPath(ns) + "/ring-object");  // from an earlier run on this plane
  auto created = admin_.post(testResourcesPath(ns), object);
  ASSERT_EQ(created.status, 201) << created.body;

  auto read = admin_.get(testResourcesPath(ns) + "/ring-object");
  ASSERT_EQ(read.status, 200) << read.body;
  auto readBack = read.json();
  EXPECT_EQ(readBack["spec"]["nonce"], 7);
  EXPECT_EQ(readBack["kind"], "TestResource");
  EXPECT_FALSE(readBack["metadata"]["uid"].get<std::string>().empty());
  EXPECT_FALSE(readBack["metadata"]["resourceVersion"].get<std::string>().empty());

  // The schema is enforced: a negative nonce is Invalid (422).
  object["metadata"]["name"] = "bad-nonce";
  object["spec"]["nonce"] = -1;
  auto invalid = admin_.post(testResourcesPath(ns), object);
  EXPECT_EQ(invalid.status, 422) << invalid.body;
}

TEST_F(ControlPlaneTest, RbacDeniesAnUnprivilegedUser) {
  auto denied = unprivileged_.get("/api/v1/namespaces/default/secrets");
  EXPECT_EQ(denied.status, 403) << denied.body;
  auto status = denied.json();
  EXPECT_EQ(status["reason"], "Forbidden");
  EXPECT_THAT(status["message"].get<std::string>(),
              ::testing::HasSubstr("wasm-operator-unprivileged"));
}

TEST_F(ControlPlaneTest, RbacDeniesAnImpersonatedServiceAccount) {
  // The runtime will act as each operator's ServiceAccount this way.
  auto denied =
      admin_.getAs("system:serviceaccount:default:default", "/api/v1/namespaces/default/secrets");
  EXPECT_EQ(denied.status, 403) << denied.body;
  auto allowed = admin_.get("/api/v1/namespaces/default/secrets");
  EXPECT_EQ(allowed.status, 200) << allowed.body;
}

TEST_F(ControlPlaneTest, ControllerManagerCreatedTheDefaultServiceAccount) {
  auto account = admin_.get("/api/v1/namespaces/default/serviceaccounts/default");
  EXPECT_EQ(account.status, 200) << account.body;
}

}  // namespace
}  // namespace wop::testing
