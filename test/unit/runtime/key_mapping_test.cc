#include "runtime/key_mapping.h"

#include <gtest/gtest.h>

namespace wop::runtime {
namespace {

cache::CachedObject replicaSet(std::string ns, std::vector<cache::OwnerReference> owners) {
  cache::CachedObject object;
  object.ns = std::move(ns);
  object.name = "web-7d9f";
  object.owners = std::move(owners);
  return object;
}

const cache::OwnerReference kControllerDeployment{"u-1", "Deployment", "web", true};

TEST(KeyMapping, SelfIsTheObjectsOwnKey) {
  EXPECT_EQ(mapToKey(KeyMapping::self(), replicaSet("shop", {})), "shop/web-7d9f");
  EXPECT_EQ(mapToKey(KeyMapping::self(), replicaSet("", {})), "web-7d9f");
}

TEST(KeyMapping, OwnerIsTheControllingOwnerInTheObjectsNamespace) {
  auto object =
      replicaSet("shop", {{"u-0", "Other", "not-controller", false}, kControllerDeployment});
  EXPECT_EQ(mapToKey(KeyMapping::owner(), object), "shop/web");
  EXPECT_EQ(mapToKey(KeyMapping::owner("Deployment"), object), "shop/web");
}

TEST(KeyMapping, OwnerOfAnotherKindOrNoControllerMapsToNothing) {
  EXPECT_EQ(mapToKey(KeyMapping::owner("StatefulSet"), replicaSet("shop", {kControllerDeployment})),
            std::nullopt);
  EXPECT_EQ(
      mapToKey(KeyMapping::owner(), replicaSet("shop", {{"u-0", "Deployment", "web", false}})),
      std::nullopt);
  EXPECT_EQ(mapToKey(KeyMapping::owner(), replicaSet("shop", {})), std::nullopt);
  EXPECT_EQ(mapToKey(KeyMapping::owner(), replicaSet("shop", {{"u-0", "Deployment", "", true}})),
            std::nullopt);
}

TEST(KeyMapping, AClusterScopedOwnerKeyIsItsNameAlone) {
  auto object = replicaSet("shop", {{"u-9", "Tenant", "acme", true}});
  EXPECT_EQ(mapToKey(KeyMapping::owner("Tenant", /*clusterScoped=*/true), object), "acme");
  EXPECT_EQ(mapToKey(KeyMapping::owner(), replicaSet("", {{"u-9", "Tenant", "acme", true}})),
            "acme");
}

TEST(KeyMapping, ParsesNamespacedAndClusterScopedKeys) {
  auto namespaced = parseKey("shop/web-0");
  ASSERT_TRUE(namespaced) << namespaced.status().toString();
  EXPECT_EQ(*namespaced, (ObjectKey{"shop", "web-0"}));
  EXPECT_EQ(namespaced->toString(), "shop/web-0");
  auto clusterScoped = parseKey("system:node:worker-1");
  ASSERT_TRUE(clusterScoped);
  EXPECT_EQ(*clusterScoped, (ObjectKey{"", "system:node:worker-1"}));
  EXPECT_EQ(clusterScoped->toString(), "system:node:worker-1");
}

TEST(KeyMapping, RefusesMalformedKeys) {
  for (std::string_view bad : {"", "/", "shop/", "/web", "a/b/c", "Shop/web", "-shop/web",
                               "sh_op/web", "shop/.", "shop/..", "..", "shop/we\nb"}) {
    auto parsed = parseKey(bad);
    EXPECT_FALSE(parsed) << "accepted \"" << bad << "\"";
    if (!parsed) EXPECT_EQ(parsed.status().code(), common::StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(parseKey(std::string(64, 'a') + "/web")) << "namespace longer than a DNS label";
  EXPECT_FALSE(parseKey(std::string_view("shop/w\0b", 8)));
}

TEST(KeyMapping, LimitsKeysToFiveHundredTwelveBytes) {
  const std::string longest = "shop/" + std::string(limits::kMaxKeyBytes - 5, 'n');
  EXPECT_TRUE(parseKey(longest));
  auto tooLong = parseKey(longest + "n");
  ASSERT_FALSE(tooLong);
  EXPECT_NE(tooLong.status().message().find("513 bytes"), std::string::npos);
}

}  // namespace
}  // namespace wop::runtime
