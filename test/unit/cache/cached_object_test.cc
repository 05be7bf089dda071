#include "cache/cached_object.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace wop::cache {
namespace {

constexpr const char* kPod = R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {
    "name": "web-0", "namespace": "shop", "uid": "u-1", "resourceVersion": "42", "generation": 3,
    "labels": {"tier": "web", "app": "shop"},
    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "uid": "u-owner", "controller": true}],
    "managedFields": [{"manager": "kubectl", "operation": "Apply", "fieldsV1": {"f:metadata": {}}}],
    "annotations": {"note": "quote \" and backslash \\ kept"}
  },
  "spec": {"containers": [{"name": "web", "image": "nginx"}]}
})";

TEST(CachedObject, DecodesTheFieldsIndexesNeed) {
  simdjson::dom::parser parser;
  auto object = decodeObjectJson(parser, kPod, {});
  ASSERT_TRUE(object) << object.status().toString();
  const auto& o = **object;
  EXPECT_EQ(o.key(), "shop/web-0");
  EXPECT_EQ(o.uid, "u-1");
  EXPECT_EQ(o.resourceVersion, "42");
  EXPECT_EQ(o.generation, 3);
  EXPECT_FALSE(o.deleting);
  ASSERT_EQ(o.labels.size(), 2u);
  EXPECT_EQ(o.labels[0].first, "app");  // sorted
  ASSERT_NE(o.label("tier"), nullptr);
  EXPECT_EQ(*o.label("tier"), "web");
  EXPECT_EQ(o.label("missing"), nullptr);
  ASSERT_EQ(o.owners.size(), 1u);
  EXPECT_EQ(o.owners[0].uid, "u-owner");
  EXPECT_TRUE(o.owners[0].controller);
}

TEST(CachedObject, DropsManagedFieldsAndKeepsEverythingElse) {
  simdjson::dom::parser parser;
  auto object = decodeObjectJson(parser, kPod, {});
  ASSERT_TRUE(object);
  auto stored = nlohmann::json::parse((*object)->json);
  auto expected = nlohmann::json::parse(kPod);
  expected["metadata"].erase("managedFields");
  EXPECT_EQ(stored, expected);
}

TEST(CachedObject, KeepsManagedFieldsWhenAsked) {
  simdjson::dom::parser parser;
  auto object = decodeObjectJson(parser, kPod, {.dropManagedFields = false});
  ASSERT_TRUE(object);
  EXPECT_EQ(nlohmann::json::parse((*object)->json), nlohmann::json::parse(kPod));
}

TEST(CachedObject, FillsInKindAndApiVersionOfListItems) {
  simdjson::dom::parser parser;
  auto object = decodeObjectJson(parser, R"({"metadata":{"name":"c","namespace":"n"},"data":{"k":"v"}})",
                                 {.apiVersion = "v1", .kind = "ConfigMap"});
  ASSERT_TRUE(object);
  auto stored = nlohmann::json::parse((*object)->json);
  EXPECT_EQ(stored["kind"], "ConfigMap");
  EXPECT_EQ(stored["apiVersion"], "v1");
  EXPECT_EQ(stored["data"]["k"], "v");
}

TEST(CachedObject, MarksObjectsBeingDeleted) {
  simdjson::dom::parser parser;
  auto object = decodeObjectJson(
      parser, R"({"metadata":{"name":"x","deletionTimestamp":"2026-11-29T20:00:00Z"}})", {});
  ASSERT_TRUE(object);
  EXPECT_TRUE((*object)->deleting);
  EXPECT_EQ((*object)->key(), "x");
}

TEST(CachedObject, RefusesObjectsWithoutAName) {
  simdjson::dom::parser parser;
  EXPECT_FALSE(decodeObjectJson(parser, R"({"metadata":{}})", {}));
  EXPECT_FALSE(decodeObjectJson(parser, R"({"kind":"Pod"})", {}));
  EXPECT_FALSE(decodeObjectJson(parser, R"([1,2])", {}));
  EXPECT_FALSE(decodeObjectJson(parser, R"({"metadata":)", {}));
}

}  // namespace
}  // namespace wop::cache
