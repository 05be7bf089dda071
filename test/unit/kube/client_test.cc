#include "kube/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fake_transport.h"

namespace wop::kube {
namespace {

const ResourceInfo kConfigMaps{{"", "v1", "configmaps"}, "ConfigMap", true};
constexpr const char* kNotFound =
    R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"configmaps \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"configmaps"},"code":404})";

class ClientTest : public ::testing::Test {
 protected:
  Client& makeClient(ClientOptions options = {}) {
    ClientConfig config;
    config.server = "https://127.0.0.1:6443";
    config.bearerToken = "secret-token";
    auto transport = std::make_unique<FakeTransport>(clock_);
    transport_ = transport.get();
    client_ = std::make_unique<Client>(config, std::move(transport), options, clock_);
    return *client_;
  }

  common::FakeClock clock_;
  FakeTransport* transport_ = nullptr;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, SendsTheTokenAndImpersonation) {
  auto& client = makeClient();
  transport_->respond(200, R"({"metadata":{"name":"x"}})");
  auto object = client.get(
      kConfigMaps, "ns", "x",
      {.impersonateUser = "system:serviceaccount:ops:ring", .impersonateGroups = {"g1"}});
  ASSERT_TRUE(object);
  ASSERT_EQ(transport_->sent.size(), 1u);
  const auto& sent = transport_->sent[0];
  EXPECT_EQ(sent.request.path, "/api/v1/namespaces/ns/configmaps/x");
  EXPECT_EQ(sent.auth.credentials.bearerToken, "secret-token");
  EXPECT_EQ(sent.auth.impersonateUser, "system:serviceaccount:ops:ring");
  EXPECT_THAT(sent.auth.impersonateGroups, ::testing::ElementsAre("g1"));
}

TEST_F(ClientTest, TurnsAStatusIntoATypedError) {
  auto& client = makeClient();
  transport_->respond(404, kNotFound);
  auto object = client.get(kConfigMaps, "ns", "x");
  ASSERT_FALSE(object);
  EXPECT_EQ(object.error().reason, ApiReason::kNotFound);
  EXPECT_THAT(object.error().message, ::testing::HasSubstr("not found"));
  EXPECT_EQ(transport_->sent.size(), 1u);  // not retried
}

TEST_F(ClientTest, RetriesTooManyRequestsAfterRetryAfter) {
  auto& client = makeClient();
  transport_->respond(429, R"({"kind":"Status","reason":"TooManyRequests","code":429})", "3");
  transport_->respond(200, "{}");
  auto object = client.get(kConfigMaps, "ns", "x");
  ASSERT_TRUE(object) << object.error().toString();
  EXPECT_EQ(transport_->sent.size(), 2u);
  EXPECT_THAT(transport_->delays, ::testing::Contains(std::chrono::milliseconds(3000)));
  EXPECT_EQ(client.counters().retries, 1u);
}

TEST_F(ClientTest, RetriesUnavailableWithGrowingBackoffThenGivesUp) {
  auto& client = makeClient({.qps = 0, .maxRetries = 3});
  for (int i = 0; i < 4; ++i) transport_->respond(503, "");
  auto object = client.get(kConfigMaps, "ns", "x");
  ASSERT_FALSE(object);
  EXPECT_EQ(object.error().reason, ApiReason::kServiceUnavailable);
  EXPECT_EQ(transport_->sent.size(), 4u);  // first try + 3 retries
  ASSERT_EQ(transport_->delays.size(), 3u);
  // Base 100 ms doubling, jittered within [0.5, 1.5): 50..150, 100..300, 200..600.
  EXPECT_GE(transport_->delays[2], std::chrono::milliseconds(200));
  EXPECT_LE(transport_->delays[0], std::chrono::milliseconds(150));
}

TEST_F(ClientTest, RetriesAConnectionErrorOnlyForRepeatableMethods) {
  auto& client = makeClient({.qps = 0});
  transport_->failWith(transportError("connection reset"));
  transport_->respond(200, "{}");
  EXPECT_TRUE(client.get(kConfigMaps, "ns", "x"));
  EXPECT_EQ(transport_->sent.size(), 2u);

  transport_->failWith(transportError("connection reset"));
  auto created = client.create(kConfigMaps, "ns", R"({"metadata":{"name":"y"}})");
  ASSERT_FALSE(created);  // a POST may have been applied: not repeated blindly
  EXPECT_EQ(created.error().reason, ApiReason::kTransport);
  EXPECT_EQ(transport_->sent.size(), 3u);
}

TEST_F(ClientTest, DoesNotRetryAConflict) {
  auto& client = makeClient();
  transport_->respond(
      409,
      R"({"kind":"Status","reason":"Conflict","code":409,"message":"the object has been modified"})");
  auto updated = client.update(kConfigMaps, "ns", "x", "{}");
  ASSERT_FALSE(updated);
  EXPECT_EQ(updated.error().reason, ApiReason::kConflict);
  EXPECT_EQ(transport_->sent.size(), 1u);
}

TEST_F(ClientTest, TheLimiterSpacesRequestsBeyondTheBurst) {
  auto& client = makeClient({.qps = 10, .burst = 2});
  for (int i = 0; i < 4; ++i) transport_->respond(200, "{}");
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(client.get(kConfigMaps, "ns", "x"));
  // Two from the burst, then one every 100 ms of virtual time.
  ASSERT_EQ(transport_->delays.size(), 2u);
  EXPECT_NEAR(transport_->delays[0].count(), 100, 1);
}

TEST_F(ClientTest, BuildsPatchAndDeleteRequests) {
  auto& client = makeClient({.qps = 0});
  transport_->respond(200, "{}");
  ASSERT_TRUE(client.patch(kConfigMaps, "ns", "x", PatchType::kApply, R"({"data":{}})",
                           {.fieldManager = "ring", .force = true}));
  EXPECT_EQ(transport_->sent[0].request.method, "PATCH");
  EXPECT_EQ(transport_->sent[0].request.contentType, "application/apply-patch+yaml");
  EXPECT_EQ(transport_->sent[0].request.path,
            "/api/v1/namespaces/ns/configmaps/x?fieldManager=ring&force=true");

  transport_->respond(200, "{}");
  ASSERT_TRUE(client.remove(kConfigMaps, "ns", "x",
                            {.propagationPolicy = "Foreground", .preconditionUid = "u1"}));
  auto body = nlohmann::json::parse(transport_->sent[1].request.body);
  EXPECT_EQ(body["propagationPolicy"], "Foreground");
  EXPECT_EQ(body["preconditions"]["uid"], "u1");
}

}  // namespace
}  // namespace wop::kube
