#include "kube/discovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/limits.h"
#include "fake_transport.h"
#include "kube/client.h"

namespace wop::kube {
namespace {

using ::testing::HasSubstr;

constexpr const char* kCoreV1 =
    R"({"kind":"APIResourceList","groupVersion":"v1","resources":[
      {"name":"configmaps","namespaced":true,"kind":"ConfigMap"},
      {"name":"namespaces","namespaced":false,"kind":"Namespace"},
      {"name":"namespaces/status","namespaced":false,"kind":"Namespace"}]})";
constexpr const char* kNotFound =
    R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404})";

std::string groupList(const std::string& group) {
  return nlohmann::json(
             {{"kind", "APIResourceList"},
              {"groupVersion", group + "/v1"},
              {"resources", {{{"name", "widgets"}, {"namespaced", true}, {"kind", "Widget"}}}}})
      .dump();
}

class DiscoveryTest : public ::testing::Test {
 protected:
  DiscoveryTest() {
    ClientConfig config;
    config.server = "https://127.0.0.1:6443";
    config.bearerToken = "t";
    auto transport = std::make_unique<FakeTransport>(clock_);
    transport_ = transport.get();
    client_ = std::make_unique<Client>(config, std::move(transport),
                                       ClientOptions{.qps = 0, .maxRetries = 0}, clock_);
  }
  Discovery& discovery() { return client_->discovery(); }

  common::FakeClock clock_;
  FakeTransport* transport_ = nullptr;
  std::unique_ptr<Client> client_;
};

TEST_F(DiscoveryTest, FindsAKindAndCachesItsGroupVersion) {
  transport_->respond(200, kCoreV1);
  auto found = discovery().forKind("v1", "ConfigMap");
  ASSERT_TRUE(found) << found.error().toString();
  EXPECT_EQ(found->gvr.resource, "configmaps");
  EXPECT_EQ(transport_->sent.at(0).request.path, "/api/v1");
  auto again = discovery().cachedKind("v1", "Namespace");
  ASSERT_TRUE(again && *again);
  EXPECT_FALSE((*again)->namespaced);
  EXPECT_EQ(discovery().fetches(), 1u);
}

TEST_F(DiscoveryTest, AMalformedApiVersionIsRefusedWithoutARequest) {
  for (const char* bad : {"v1/../../api/v1/namespaces/x/services/y:80/proxy/z", "v1?q=1", ".."}) {
    auto refused = discovery().forKind(bad, "ConfigMap");
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().reason, ApiReason::kBadRequest);
    EXPECT_THAT(refused.error().message, HasSubstr("apiVersion"));
  }
  EXPECT_TRUE(transport_->sent.empty());
}

TEST_F(DiscoveryTest, AMissIsAnsweredFromTheCacheUntilItExpires) {
  transport_->respond(404, kNotFound);
  auto missing = discovery().forKind("late.example.com/v1", "Widget");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().reason, ApiReason::kNotFound);
  // Asked again and again: no request while the miss is fresh.
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(discovery().forKind("late.example.com/v1", "Widget"));
  EXPECT_EQ(discovery().fetches(), 1u);
  // Later the CRD exists: found once the miss has expired.
  clock_.advance(std::chrono::seconds(limits::kDiscoveryMissTtlSeconds));
  transport_->respond(200, groupList("late.example.com"));
  auto found = discovery().forKind("late.example.com/v1", "Widget");
  ASSERT_TRUE(found) << found.error().toString();
  EXPECT_EQ(discovery().fetches(), 2u);
}

TEST_F(DiscoveryTest, AKindMissingFromAKnownGroupVersionIsFetchedAgainOnlyAfterTheTtl) {
  transport_->respond(200, kCoreV1);
  ASSERT_TRUE(discovery().forKind("v1", "ConfigMap"));
  for (int i = 0; i < 10; ++i) {
    auto missing = discovery().forKind("v1", "Gadget" + std::to_string(i));
    ASSERT_FALSE(missing);
    EXPECT_THAT(missing.error().message, HasSubstr("v1 has no kind Gadget"));
  }
  EXPECT_EQ(discovery().fetches(), 1u);
  clock_.advance(std::chrono::seconds(limits::kDiscoveryMissTtlSeconds));
  transport_->respond(200, kCoreV1);
  EXPECT_FALSE(discovery().forKind("v1", "Gadget"));
  EXPECT_EQ(discovery().fetches(), 2u);
}

TEST_F(DiscoveryTest, BothCachesAreBounded) {
  const size_t groups = limits::kMaxDiscoveryMisses + 10;
  for (size_t i = 0; i < groups; ++i) {
    transport_->respond(404, kNotFound);
    EXPECT_FALSE(discovery().forKind("g" + std::to_string(i) + ".example.com/v1", "Widget"));
  }
  EXPECT_EQ(discovery().cachedMisses(), limits::kMaxDiscoveryMisses);
  const size_t served = limits::kMaxDiscoveryGroupVersions + 10;
  for (size_t i = 0; i < served; ++i) {
    const std::string group = "s" + std::to_string(i) + ".example.com";
    transport_->respond(200, groupList(group));
    EXPECT_TRUE(discovery().forKind(group + "/v1", "Widget"));
  }
  EXPECT_EQ(discovery().cachedGroupVersions(), limits::kMaxDiscoveryGroupVersions);
}

TEST_F(DiscoveryTest, AsyncLookupsAnswerFromTheCacheAtOnceOrAfterTheFetch) {
  transport_->respond(200, kCoreV1);
  std::vector<std::string> answers;
  auto record = [&](ApiResult<ResourceInfo> result) {
    answers.push_back(result ? result->gvr.resource : result.error().toString());
  };
  EXPECT_FALSE(discovery().cachedKind("v1", "ConfigMap"));  // not fetched yet: no I/O here
  EXPECT_TRUE(transport_->sent.empty());
  discovery().forKindAsync("v1", "ConfigMap", record);  // the fake answers at once
  discovery().forKindAsync("v1", "Namespace", record);  // from the cache
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0], "configmaps");
  EXPECT_EQ(answers[1], "namespaces");
  EXPECT_EQ(discovery().fetches(), 1u);
}

}  // namespace
}  // namespace wop::kube
