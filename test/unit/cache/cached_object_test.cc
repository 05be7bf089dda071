#include "cache/cached_object.h"

#include <gtest/gtest.h>

#include <functional>
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
  auto object =
      decodeObjectJson(parser, R"({"metadata":{"name":"c","namespace":"n"},"data":{"k":"v"}})",
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

// The hashes predicates compare: decode a variant of kPod changed by edit.
ObjectPtr decodeEdited(const std::function<void(nlohmann::json&)>& edit) {
  auto document = nlohmann::json::parse(kPod);
  edit(document);
  simdjson::dom::parser parser;
  auto object = decodeObjectJson(parser, document.dump(), {});
  EXPECT_TRUE(object) << object.status().toString();
  return object ? *object : nullptr;
}

TEST(CachedObject, ContentHashIgnoresOnlyTheResourceVersion) {
  auto original = decodeEdited([](auto&) {});
  auto newVersion = decodeEdited([](auto& o) { o["metadata"]["resourceVersion"] = "43"; });
  auto newImage = decodeEdited([](auto& o) { o["spec"]["containers"][0]["image"] = "caddy"; });
  auto newStatus = decodeEdited([](auto& o) { o["status"] = {{"phase", "Running"}}; });
  ASSERT_TRUE(original && newVersion && newImage && newStatus);
  EXPECT_NE(original->contentHash, 0u);
  EXPECT_EQ(original->contentHash, newVersion->contentHash);
  EXPECT_NE(original->contentHash, newImage->contentHash);
  EXPECT_NE(original->contentHash, newStatus->contentHash);
}

TEST(CachedObject, ContentHashIgnoresManagedFieldsWhenTheyAreDropped) {
  auto original = decodeEdited([](auto&) {});
  auto otherManager = decodeEdited([](auto& o) {
    o["metadata"]["managedFields"][0]["manager"] = "helm";
    o["metadata"]["resourceVersion"] = "44";
  });
  ASSERT_TRUE(original && otherManager);
  EXPECT_EQ(original->contentHash, otherManager->contentHash);
}

TEST(CachedObject, AnnotationsHashChangesWithTheAnnotationsOnly) {
  auto original = decodeEdited([](auto&) {});
  auto relabeled = decodeEdited([](auto& o) { o["metadata"]["labels"]["tier"] = "db"; });
  auto annotated = decodeEdited([](auto& o) { o["metadata"]["annotations"]["extra"] = "1"; });
  auto none = decodeEdited([](auto& o) { o["metadata"].erase("annotations"); });
  auto empty =
      decodeEdited([](auto& o) { o["metadata"]["annotations"] = nlohmann::json::object(); });
  ASSERT_TRUE(original && relabeled && annotated && none && empty);
  EXPECT_NE(original->annotationsHash, 0u);
  EXPECT_EQ(original->annotationsHash, relabeled->annotationsHash);
  EXPECT_NE(original->annotationsHash, annotated->annotationsHash);
  EXPECT_EQ(none->annotationsHash, 0u);
  EXPECT_EQ(empty->annotationsHash, 0u);
}

}  // namespace
}  // namespace wop::cache
