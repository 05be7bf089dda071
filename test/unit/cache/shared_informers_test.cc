#include "cache/shared_informers.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "kube/fake_watch_transport.h"

namespace wop::cache {
namespace {

const kube::ResourceInfo kConfigMaps{{"", "v1", "configmaps"}, "ConfigMap", true};
constexpr const char* kEmptyList =
    R"({"apiVersion":"v1","kind":"ConfigMapList","metadata":{"resourceVersion":"10"},"items":[]})";

class SharedInformersTest : public ::testing::Test {
 protected:
  SharedInformersTest() {
    kube::ClientConfig config;
    config.server = "https://127.0.0.1:6443";
    config.bearerToken = "token";
    auto transport = std::make_unique<kube::FakeWatchTransport>(clock_);
    transport_ = transport.get();
    client_ = std::make_unique<kube::Client>(
        config, std::move(transport), kube::ClientOptions{.qps = 0, .maxRetries = 0}, clock_);
    informers_ = std::make_unique<SharedInformers>(*client_);
  }

  Handlers countingSynced(int& synced) {
    Handlers handlers;
    handlers.onSynced = [&synced] { synced++; };
    return handlers;
  }

  common::FakeClock clock_;
  kube::FakeWatchTransport* transport_ = nullptr;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<SharedInformers> informers_;
};

TEST_F(SharedInformersTest, SubscribersOfOneKeyShareOneWatchAndEachIsToldOfTheSync) {
  const InformerKey key{.resource = kConfigMaps, .ns = "ns"};
  int firstSynced = 0, secondSynced = 0, lateSynced = 0;
  auto first = informers_->subscribe(key, countingSynced(firstSynced));
  auto second = informers_->subscribe(key, countingSynced(secondSynced));
  EXPECT_EQ(informers_->activeInformers(), 1u);
  transport_->runDue();
  ASSERT_EQ(transport_->pendingRequests(), 1u);  // one list for both
  ASSERT_TRUE(transport_->respond(200, kEmptyList));
  EXPECT_EQ(firstSynced, 1);
  EXPECT_EQ(secondSynced, 1);
  EXPECT_EQ(transport_->streamCount(), 1u);

  auto late = informers_->subscribe(key, countingSynced(lateSynced));
  EXPECT_EQ(lateSynced, 0);  // not inside subscribe, whose caller may hold locks
  transport_->runDue();
  EXPECT_EQ(lateSynced, 1);
  EXPECT_EQ(firstSynced, 1);
  EXPECT_EQ(transport_->pendingRequests(), 0u);  // no second list

  first.reset();
  second.reset();
  late.reset();
  transport_->runDue();
  EXPECT_EQ(informers_->activeInformers(), 0u);
  EXPECT_EQ(transport_->openStreams(), 0u);
}

}  // namespace
}  // namespace wop::cache
