// The SDK's helpers against the real control plane (test/guests/helpers): status through the
// status subresource (merge patch and server-side apply, with an identity that may only patch
// helpertests/status), condition semantics, createOrUpdate, events.k8s.io/v1 Events with
// series made as the operator's ServiceAccount, key/value logs, and a terminal error that the
// host does not retry.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "runtime/operator_host.h"
#include "support/host_test_support.h"
#include "support/kube_test_env.h"

namespace wop::testing {
namespace {

using ::testing::HasSubstr;

const kube::ResourceInfo kHelperTests{
    {"test.wasm-operator.dev", "v1", "helpertests"}, "HelperTest", true};
const kube::ResourceInfo kEvents{{"events.k8s.io", "v1", "events"}, "Event", true};
constexpr const char* kNamespace = "rt-sdk-helpers";
constexpr const char* kController = "test.wasm-operator.dev/helpers";

nlohmann::json helperTest(const std::string& name, nlohmann::json spec) {
  return {{"apiVersion", "test.wasm-operator.dev/v1"},
          {"kind", "HelperTest"},
          {"metadata", {{"name", name}, {"namespace", kNamespace}}},
          {"spec", std::move(spec)}};
}

// The string or integer at a JSON pointer, or "" / -1 when absent or of another type: the test
// reads objects that may not have their status yet.
std::string stringAt(const nlohmann::json& object, const std::string& pointer) {
  const nlohmann::json::json_pointer at(pointer);
  if (!object.contains(at) || !object[at].is_string()) return "";
  return object[at].get<std::string>();
}
int64_t intAt(const nlohmann::json& object, const std::string& pointer) {
  const nlohmann::json::json_pointer at(pointer);
  if (!object.contains(at) || !object[at].is_number_integer()) return -1;
  return object[at].get<int64_t>();
}

class SdkHelpersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = adminClient();
    ASSERT_NE(client_, nullptr);
    const std::string guest = std::string(WOP_SOURCE_DIR) + "/test/guests/helpers/";
    applyManifests(*client_, guest + "crd.yaml");
    applyManifests(*client_, guest + "rbac.yaml");
    applyManifests(*client_, std::string(WOP_SOURCE_DIR) + "/deploy/rbac/example-operators.yaml");
    ensureNamespace(*client_, kNamespace);
    for (const char* name : {"h1", "bad"}) {
      removeIfPresent(*client_, kHelperTests, kNamespace, name);
      removeIfPresent(*client_, kConfigMaps, kNamespace, std::string(name) + "-out");
    }
    artifacts_ =
        std::filesystem::temp_directory_path() / ("wop-sdk-helpers-" + std::to_string(::getpid()));
    std::filesystem::create_directories(artifacts_);
    host_ = std::make_unique<runtime::OperatorHost>(
        *client_, runtime::HostOptions{.workers = 2, .artifactDirectory = artifacts_.string()},
        logs_.sink());
    auto added = host_->add({.name = "helpers",
                             .modulePath = std::string(WOP_WASM_DIR) + "/helpers.wasm",
                             .serviceAccountNamespace = "wasm-operators",
                             .serviceAccountName = "helpers",
                             .configJson = nlohmann::json{{"namespace", kNamespace}}.dump()});
    ASSERT_TRUE(added.isOk()) << added.toString();
  }
  void TearDown() override {
    host_.reset();
    std::filesystem::remove_all(artifacts_);
  }

  nlohmann::json get(const kube::ResourceInfo& resource, const std::string& name) {
    auto object = client_->get(resource, kNamespace, name);
    return object ? parseJson(*object) : nlohmann::json();
  }
  // events.k8s.io Events in ns about `regarding` (of that uid, unless empty) with `reason`
  // from the guest. Events of earlier runs on this control plane have other uids.
  std::vector<nlohmann::json> events(const std::string& ns, const std::string& regardingName,
                                     const std::string& reason, const std::string& uid = "") {
    std::vector<nlohmann::json> found;
    auto list = client_->list(kEvents, ns, {});
    if (!list) return found;
    const auto parsed = parseJson(*list);
    if (!parsed.contains("items") || !parsed["items"].is_array()) return found;
    for (const auto& event : parsed["items"]) {
      if (stringAt(event, "/reportingController") == kController &&
          stringAt(event, "/regarding/name") == regardingName &&
          stringAt(event, "/reason") == reason &&
          (uid.empty() || stringAt(event, "/regarding/uid") == uid)) {
        found.push_back(event);
      }
    }
    return found;
  }
  // The condition of that type in the object's status, or an empty object.
  static nlohmann::json condition(const nlohmann::json& object, const std::string& type) {
    const nlohmann::json::json_pointer at("/status/conditions");
    if (!object.contains(at) || !object[at].is_array()) return nlohmann::json::object();
    for (const auto& c : object[at]) {
      if (stringAt(c, "/type") == type) return c;
    }
    return nlohmann::json::object();
  }

  std::unique_ptr<kube::Client> client_;
  std::filesystem::path artifacts_;
  LogCapture logs_;
  std::unique_ptr<runtime::OperatorHost> host_;
};

TEST_F(SdkHelpersTest, StatusConditionsCreateOrUpdateAndEventSeriesEndToEnd) {
  ASSERT_TRUE(
      client_->create(kHelperTests, kNamespace, helperTest("h1", {{"value", "one"}}).dump()));

  // createOrUpdate created the ConfigMap; patchStatus and applyStatus went through /status
  // (the only way status reaches a kind with the subresource, and the identity may only patch
  // helpertests/status).
  ASSERT_TRUE(eventually([&] {
    auto h1 = get(kHelperTests, "h1");
    return stringAt(get(kConfigMaps, "h1-out"), "/data/value") == "one" &&
           stringAt(h1, "/status/patched") == "one" &&
           intAt(h1, "/status/observedGeneration") == 1 &&
           stringAt(condition(h1, "Ready"), "/status") == "True";
  })) << get(kHelperTests, "h1").dump();
  auto h1 = get(kHelperTests, "h1");
  const auto ready = condition(h1, "Ready");
  EXPECT_EQ(stringAt(ready, "/reason"), "Reconciled");
  EXPECT_EQ(stringAt(ready, "/message"), "value one");
  EXPECT_EQ(intAt(ready, "/observedGeneration"), 1);
  const std::string transition = stringAt(ready, "/lastTransitionTime");
  EXPECT_EQ(stringAt(get(kConfigMaps, "h1-out"), "/metadata/ownerReferences/0/name"), "h1");
  bool applied = false;
  for (const auto& entry : h1["metadata"]["managedFields"]) {
    applied |= stringAt(entry, "/manager") == "helpers-status" &&
               stringAt(entry, "/operation") == "Apply" &&
               stringAt(entry, "/subresource") == "status";
  }
  EXPECT_TRUE(applied) << h1["metadata"]["managedFields"].dump();
  EXPECT_TRUE(eventually([&] {
    return logs_.contains("reconciled key=rt-sdk-helpers/h1 operation=created value=one");
  }));
  EXPECT_TRUE(eventually([&] {
    return logs_.contains("reconciled key=rt-sdk-helpers/h1 operation=unchanged value=one");
  })) << "its own status writes woke it: nothing to change";

  // An update: the ConfigMap is updated, the condition keeps its transition time (True stays
  // True) while its message and observedGeneration move.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a new second, were it to move
  ASSERT_TRUE(client_->patch(kHelperTests, kNamespace, "h1", kube::PatchType::kJsonMerge,
                             R"({"spec":{"value":"two"}})"));
  ASSERT_TRUE(eventually([&] {
    auto h = get(kHelperTests, "h1");
    return stringAt(get(kConfigMaps, "h1-out"), "/data/value") == "two" &&
           intAt(h, "/status/observedGeneration") == 2 &&
           stringAt(condition(h, "Ready"), "/message") == "value two";
  })) << get(kHelperTests, "h1").dump();
  EXPECT_EQ(stringAt(condition(get(kHelperTests, "h1"), "Ready"), "/lastTransitionTime"),
            transition);
  EXPECT_EQ(intAt(condition(get(kHelperTests, "h1"), "Ready"), "/observedGeneration"), 2);

  // The same Event twice within minutes is one Event object with a series, written by the
  // operator's ServiceAccount.
  const std::string uid = stringAt(h1, "/metadata/uid");
  ASSERT_TRUE(eventually([&] {
    auto found = events(kNamespace, "h1", "Reconciled", uid);
    return found.size() == 1 && intAt(found[0], "/series/count") >= 2;
  })) << "events: "
      << events(kNamespace, "h1", "Reconciled", uid).size();
  const auto event = events(kNamespace, "h1", "Reconciled", uid)[0];
  EXPECT_EQ(stringAt(event, "/reportingInstance"), "helpers-0");
  EXPECT_EQ(stringAt(event, "/type"), "Normal");
  EXPECT_EQ(stringAt(event, "/action"), "Reconcile");
  EXPECT_EQ(stringAt(event, "/regarding/kind"), "HelperTest");
  EXPECT_FALSE(stringAt(event, "/eventTime").empty());
  EXPECT_FALSE(logs_.contains("event failed"));
  // (A reconcile may still have failed with 409: the cache can lag behind the ConfigMap it
  // created, as any cache-reading controller's can; the retry sees it.)
  EXPECT_EQ(statsOf(*host_, "helpers").restarts, 0u) << statsOf(*host_, "helpers").lastError;
}

TEST_F(SdkHelpersTest, ATerminalErrorIsLoggedCountedAndNotRetried) {
  ASSERT_TRUE(client_->create(kHelperTests, kNamespace,
                              helperTest("bad", {{"value", "x"}, {"mode", "terminal"}}).dump()));
  const std::string line =
      "reconcile failed terminally, not retried: spec.mode terminal cannot "
      "be reconciled: rt-sdk-helpers/bad";
  ASSERT_TRUE(eventually([&] { return logs_.contains(line); }));
  EXPECT_TRUE(eventually([&] {
    return stringAt(condition(get(kHelperTests, "bad"), "Ready"), "/reason") == "InvalidSpec";
  })) << get(kHelperTests, "bad").dump();
  // Its own status patch wakes it once more (terminal again); then it rests. An error would be
  // retried within milliseconds (5 ms backoff, doubling): over 3 s, none comes.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const auto before = statsOf(*host_, "helpers");
  EXPECT_GE(before.reconciles, 1u);
  EXPECT_EQ(before.reconcileErrors, before.reconciles) << "every reconcile was a terminal error";
  std::this_thread::sleep_for(std::chrono::seconds(3));
  EXPECT_EQ(statsOf(*host_, "helpers").reconciles, before.reconciles);
  EXPECT_EQ(statsOf(*host_, "helpers").reconcileErrors, before.reconcileErrors);

  // The Event about the object sits beside it; the one about its Namespace (cluster-scoped)
  // in "default".
  const std::string uid = stringAt(get(kHelperTests, "bad"), "/metadata/uid");
  EXPECT_TRUE(
      eventually([&] { return events(kNamespace, "bad", "InvalidSpec", uid).size() == 1; }));
  EXPECT_TRUE(eventually([&] {
    auto about = events("default", kNamespace, "InvalidHelperTest");
    return !about.empty() && stringAt(about[0], "/regarding/kind") == "Namespace" &&
           stringAt(about[0], "/note") == "bad";
  }));
  EXPECT_FALSE(logs_.contains("event about the namespace failed"));

  // A change of the object is reconciled again.
  ASSERT_TRUE(client_->patch(kHelperTests, kNamespace, "bad", kube::PatchType::kJsonMerge,
                             R"({"spec":{"mode":"fine"}})"));
  EXPECT_TRUE(eventually(
      [&] { return stringAt(condition(get(kHelperTests, "bad"), "Ready"), "/status") == "True"; }));
}

}  // namespace
}  // namespace wop::testing
