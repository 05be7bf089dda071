// The ring operator (operators/ring/ring.cc) against the SDK's fake host: it carries each
// TestResource's nonce from its input namespace to its output namespace, creating the target
// or raising its nonce, never lowering it.
#include <gtest/gtest.h>

#include "wop/object.h"
#include "wop/testing/fake_host.h"

namespace {

using nlohmann::json;
using wop::sdk::getInt;
using wop::testing::Enqueued;
using wop::testing::FakeHost;

constexpr wop::sdk::Kind kTestResource{"bench.wasm-operator.dev/v1", "TestResource"};

json testResource(const std::string& ns, const std::string& name, int64_t nonce) {
  return {{"apiVersion", "bench.wasm-operator.dev/v1"},
          {"kind", "TestResource"},
          {"metadata", {{"namespace", ns}, {"name", name}}},
          {"spec", {{"nonce", nonce}}}};
}

class RingTest : public ::testing::Test {
 protected:
  RingTest() { fake_.setConfig({{"inputNamespace", "ring-0"}, {"outputNamespace", "ring-1"}}); }

  int64_t nonceOf(const std::string& ns, const std::string& name) {
    const json* object = fake_.cluster().find(kTestResource, ns, name);
    return object ? getInt(*object, {"spec", "nonce"}).value_or(-1) : -1;
  }

  FakeHost fake_;
  std::unique_ptr<wop::sdk::Operator> ring_ = wop::testing::newOperator();
};

TEST_F(RingTest, CreatesTheTargetWithTheSourceNonce) {
  fake_.cluster().put(testResource("ring-0", "a", 7));
  auto result = fake_.reconcile(*ring_, "ring-0/a");
  EXPECT_FALSE(result.isError()) << result.message();
  EXPECT_EQ(nonceOf("ring-1", "a"), 7);
  ASSERT_EQ(fake_.calls().size(), 1u);
  EXPECT_EQ(fake_.calls()[0].request["verb"], "create");
  EXPECT_EQ(fake_.calls()[0].status, 201);
}

TEST_F(RingTest, RaisesALowerNonceGuardedByResourceVersion) {
  fake_.cluster().put(testResource("ring-0", "a", 9));
  const std::string version =
      wop::sdk::resourceVersionOf(fake_.cluster().put(testResource("ring-1", "a", 3)));
  auto result = fake_.reconcile(*ring_, "ring-0/a");
  EXPECT_FALSE(result.isError()) << result.message();
  EXPECT_EQ(nonceOf("ring-1", "a"), 9);
  auto patches = fake_.calls("patch");
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0].request["body"]["metadata"]["resourceVersion"], version);
}

TEST_F(RingTest, NeverLowersANonce) {
  fake_.cluster().put(testResource("ring-0", "a", 2));
  fake_.cluster().put(testResource("ring-1", "a", 5));
  auto result = fake_.reconcile(*ring_, "ring-0/a");
  EXPECT_EQ(result.kind(), wop::sdk::Result::Kind::kDone);
  EXPECT_EQ(nonceOf("ring-1", "a"), 5);
  EXPECT_TRUE(fake_.calls().empty());
}

TEST_F(RingTest, ADeletedSourceIsDoneWithoutWrites) {
  auto result = fake_.reconcile(*ring_, "ring-0/gone");
  EXPECT_EQ(result.kind(), wop::sdk::Result::Kind::kDone);
  EXPECT_TRUE(fake_.calls().empty());
}

TEST_F(RingTest, ARaceLostOnTheResourceVersionIsRetried) {
  fake_.cluster().put(testResource("ring-0", "a", 9));
  fake_.cluster().put(testResource("ring-1", "a", 3));
  fake_.failCalls({.verb = "patch"}, 409, /*times=*/1);
  auto failed = fake_.reconcile(*ring_, "ring-0/a");
  EXPECT_TRUE(failed.isError());
  EXPECT_NE(failed.message().find("409"), std::string::npos) << failed.message();
  EXPECT_EQ(nonceOf("ring-1", "a"), 3);
  auto retried = fake_.reconcile(*ring_, "ring-0/a");
  EXPECT_FALSE(retried.isError()) << retried.message();
  EXPECT_EQ(nonceOf("ring-1", "a"), 9);
}

TEST_F(RingTest, AFailedReadOfTheTargetIsAnErrorNotAnAbsence) {
  fake_.cluster().put(testResource("ring-0", "a", 9));
  fake_.cluster().put(testResource("ring-1", "a", 3));
  fake_.failReads({.ns = "ring-1"}, WOP_ERR_UNAVAILABLE);
  auto result = fake_.reconcile(*ring_, "ring-0/a");
  EXPECT_TRUE(result.isError());
  EXPECT_TRUE(fake_.calls().empty()) << "nothing written on a failed read";
}

TEST_F(RingTest, OnlyInputEventsWakeIt) {
  EXPECT_EQ(fake_.keysFor(*ring_, testResource("ring-0", "a", 1)),
            (std::vector<Enqueued>{{"ring", "ring-0/a"}}));
  EXPECT_TRUE(fake_.keysFor(*ring_, testResource("ring-1", "a", 1)).empty())
      << "the output namespace is cached for reads only";
}

}  // namespace
