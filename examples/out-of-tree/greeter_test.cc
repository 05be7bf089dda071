// greeter.cc against the SDK's fake host: no control plane, no Wasm.
#include <gtest/gtest.h>
#include <wop/object.h>
#include <wop/testing/fake_host.h>

namespace {

using nlohmann::json;
using wop::sdk::kinds::ConfigMap;

json configMap(const std::string& name, bool labelled) {
  json object = {{"apiVersion", "v1"},
                 {"kind", "ConfigMap"},
                 {"metadata", {{"namespace", "demo"}, {"name", name}}}};
  if (labelled) wop::sdk::setLabel(object, "greeter.example.dev/greet", "true");
  return object;
}

TEST(Greeter, GreetsALabelledConfigMapOnce) {
  wop::testing::FakeHost fake;
  fake.cluster().put(configMap("world", true));
  auto greeter = wop::testing::newOperator();

  auto result = fake.reconcile(*greeter, "demo/world");
  EXPECT_FALSE(result.isError()) << result.message();
  EXPECT_EQ((*fake.cluster().find(ConfigMap, "demo", "world"))["data"]["greeting"], "hello, world");
  ASSERT_EQ(fake.events().size(), 1u);
  EXPECT_EQ(fake.events()[0].reason, "Greeted");

  fake.clearRecords();
  EXPECT_FALSE(fake.reconcile(*greeter, "demo/world").isError());
  EXPECT_TRUE(fake.calls().empty()) << "already greeted";
}

TEST(Greeter, RetriesWhenThePatchFails) {
  wop::testing::FakeHost fake;
  fake.cluster().put(configMap("world", true));
  fake.failCalls({.verb = "patch"}, 503);
  auto greeter = wop::testing::newOperator();
  EXPECT_TRUE(fake.reconcile(*greeter, "demo/world").isError());
}

TEST(Greeter, OnlyLabelledConfigMapsWakeIt) {
  wop::testing::FakeHost fake;
  auto greeter = wop::testing::newOperator();
  EXPECT_EQ(fake.keysFor(*greeter, configMap("world", true)).size(), 1u);
  EXPECT_TRUE(fake.keysFor(*greeter, configMap("other", false)).empty());
}

}  // namespace
