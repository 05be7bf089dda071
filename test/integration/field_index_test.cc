// Field indexes and mappers that read the cache, against the real control plane: the indexer
// guest (test/guests/indexer) maps a changed source ConfigMap to the consumers that name it,
// by a read of the host's field index from inside wop_map, with no state in the guest.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "runtime/operator_host.h"
#include "support/host_test_support.h"
#include "support/kube_test_env.h"

namespace wop::testing {
namespace {

constexpr const char* kNs = "rt-field-index";
constexpr const char* kConsumerLabel = "indexer.wasm-operator.dev/consumer";
constexpr const char* kSourceLabel = "indexer.wasm-operator.dev/source";

nlohmann::json configMap(const std::string& name, const char* label, nlohmann::json data) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", kNs}, {"labels", {{label, "yes"}}}}},
          {"data", std::move(data)}};
}

class FieldIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    client_ = adminClient();
    ASSERT_NE(client_, nullptr);
    applyManifests(*client_, std::string(WOP_SOURCE_DIR) + "/deploy/rbac/example-operators.yaml");
    ensureNamespace(*client_, kNs);
    artifacts_ =
        std::filesystem::temp_directory_path() / ("wop-index-" + std::to_string(::getpid()));
    std::filesystem::create_directories(artifacts_);
    host_ = std::make_unique<runtime::OperatorHost>(
        *client_,
        runtime::HostOptions{.workers = 2,
                             .artifactDirectory = artifacts_.string(),
                             .restartBackoffBase = std::chrono::milliseconds(200),
                             .restartBackoffMax = std::chrono::seconds(2)},
        logs_.sink());
  }
  void TearDown() override {
    host_.reset();
    std::filesystem::remove_all(artifacts_);
  }

  void put(const nlohmann::json& object) {
    removeIfPresent(*client_, kConfigMaps, kNs, object["metadata"]["name"]);
    auto created = client_->create(kConfigMaps, kNs, object.dump());
    ASSERT_TRUE(created) << created.error().toString();
  }
  void setData(const std::string& name, const nlohmann::json& data) {
    auto patched = client_->patch(kConfigMaps, kNs, name, kube::PatchType::kJsonMerge,
                                  nlohmann::json({{"data", data}}).dump());
    ASSERT_TRUE(patched) << patched.error().toString();
  }
  // The consumer's annotation the indexer writes, "" if none.
  std::string valueOf(const std::string& consumer) {
    auto object = client_->get(kConfigMaps, kNs, consumer);
    if (!object) return "";
    auto annotations = parseJson(*object)["metadata"]["annotations"];
    return annotations.is_object() ? annotations.value("indexer.wasm-operator.dev/value", "") : "";
  }
  bool values(const std::map<std::string, std::string>& expected) {
    return eventually([&] {
      for (const auto& [consumer, value] : expected) {
        if (valueOf(consumer) != value) return false;
      }
      return true;
    });
  }

  std::unique_ptr<kube::Client> client_;
  std::filesystem::path artifacts_;
  LogCapture logs_;
  std::unique_ptr<runtime::OperatorHost> host_;
};

TEST_F(FieldIndexTest, AMapperFindsTheConsumersOfASourceByTheHostsIndex) {
  put(configMap("s1", kSourceLabel, {{"value", "one"}}));
  put(configMap("s2", kSourceLabel, {{"value", "uno"}}));
  put(configMap("c1", kConsumerLabel, {{"source", "s1"}}));
  put(configMap("c2", kConsumerLabel, {{"source", "s1"}}));
  put(configMap("c3", kConsumerLabel, {{"source", "s2"}}));
  auto added = host_->add({.name = "indexer",
                           .modulePath = std::string(WOP_WASM_DIR) + "/indexer.wasm",
                           .serviceAccountNamespace = "wasm-operators",
                           .serviceAccountName = "configmaps-only",
                           .configJson = nlohmann::json({{"namespace", kNs}}).dump()});
  ASSERT_TRUE(added.isOk()) << added.toString();
  ASSERT_TRUE(values({{"c1", "one"}, {"c2", "one"}, {"c3", "uno"}}));

  // A source's change reaches exactly the consumers that name it.
  setData("s1", {{"value", "two"}});
  ASSERT_TRUE(values({{"c1", "two"}, {"c2", "two"}}))
      << "the mapper did not find s1's consumers by index";
  EXPECT_TRUE(logs_.contains("mapped rt-field-index/s1 to 2 consumer(s)"));
  EXPECT_EQ(valueOf("c3"), "uno");

  // The index follows the consumers: c2 moves to s2, c1 goes.
  setData("c2", {{"source", "s2"}});
  ASSERT_TRUE(values({{"c2", "uno"}}));
  setData("s1", {{"value", "three"}});
  ASSERT_TRUE(values({{"c1", "three"}}));
  EXPECT_TRUE(logs_.contains("mapped rt-field-index/s1 to 1 consumer(s)"));
  EXPECT_EQ(valueOf("c2"), "uno") << "c2 no longer names s1";
  removeIfPresent(*client_, kConfigMaps, kNs, "c1");
  setData("s1", {{"value", "four"}});
  EXPECT_TRUE(
      eventually([&] { return logs_.contains("mapped rt-field-index/s1 to 0 consumer(s)"); }));
  setData("s2", {{"value", "dos"}});
  EXPECT_TRUE(values({{"c2", "dos"}, {"c3", "dos"}}));

  EXPECT_FALSE(logs_.contains("mapping rt-field-index")) << "no read by index failed";
  const auto stats = statsOf(*host_, "indexer");
  EXPECT_EQ(stats.restarts, 0u) << stats.lastError;
  EXPECT_EQ(stats.reconcileErrors, 0u);
  EXPECT_GT(host_->informers().cacheTotals().indexBytes, 0u);
}

}  // namespace
}  // namespace wop::testing
