#include "runtime/declaration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wop::runtime {
namespace {

using ::testing::HasSubstr;

TEST(Declaration, ParsesTheRingOperatorsDeclaration) {
  auto d = parseDeclaration(R"({"name":"ring","for":{"apiVersion":"bench.wasm-operator.dev/v1",
      "kind":"TestResource","namespace":"ring-0","predicates":["GenerationChanged"]},
      "maxConcurrentReconciles":2})");
  ASSERT_TRUE(d) << d.status().toString();
  EXPECT_EQ(d->name, "ring");
  EXPECT_EQ(d->primary.kind, "TestResource");
  EXPECT_EQ(d->primary.ns, "ring-0");
  EXPECT_EQ(d->primary.mapTo, MapTo::kSelf);
  EXPECT_THAT(d->primary.predicates, ::testing::ElementsAre("GenerationChanged"));
  EXPECT_EQ(d->maxConcurrentReconciles, 2);
}

TEST(Declaration, OwnedKindsMapToTheirOwnerAndWatchesSayHow) {
  auto d = parseDeclaration(R"({"name":"r","for":{"apiVersion":"v1","kind":"ConfigMap"},
      "owns":[{"apiVersion":"v1","kind":"Secret","mapTo":"self"}],
      "watches":[{"apiVersion":"v1","kind":"ConfigMap","labelSelector":"copy=yes","mapTo":"function"}]})");
  ASSERT_TRUE(d) << d.status().toString();
  ASSERT_EQ(d->owns.size(), 1u);
  EXPECT_EQ(d->owns[0].mapTo, MapTo::kOwner);  // owns always maps to the owner
  ASSERT_EQ(d->watches.size(), 1u);
  EXPECT_EQ(d->watches[0].mapTo, MapTo::kFunction);
  EXPECT_EQ(d->watches[0].labelSelector, "copy=yes");
}

TEST(Declaration, ErrorsNameTheField) {
  EXPECT_THAT(parseDeclaration("not json").status().message(), HasSubstr("not a JSON object"));
  EXPECT_THAT(parseDeclaration(R"({"for":{}})").status().message(), HasSubstr("name is required"));
  EXPECT_THAT(parseDeclaration(R"({"name":"x"})").status().message(), HasSubstr("for is required"));
  EXPECT_THAT(parseDeclaration(R"({"name":"x","for":{"kind":"Pod"}})").status().message(),
              HasSubstr("for.apiVersion is required"));
  EXPECT_THAT(parseDeclaration(R"({"name":"x","for":{"apiVersion":"v1","kind":"Pod"},
      "watches":[{"apiVersion":"v1","kind":"Pod","mapTo":"everyone"}]})")
                  .status()
                  .message(),
              HasSubstr("watches[0].mapTo"));
  EXPECT_THAT(parseDeclaration(R"({"name":"x","for":{"apiVersion":"v1","kind":"Pod"},
      "maxConcurrentReconciles":0})")
                  .status()
                  .message(),
              HasSubstr("maxConcurrentReconciles"));
}

TEST(Declaration, WatchedNamesAreCheckedAsTheApiServerWould) {
  for (const char* bad :
       {R"({"name":"x","for":{"apiVersion":"v1/../../api/v1/namespaces","kind":"Pod"}})",
        R"({"name":"x","for":{"apiVersion":"v1?q=1","kind":"Pod"}})",
        R"({"name":"x","for":{"apiVersion":"v1","kind":"Pod","namespace":".."}})",
        R"({"name":"x","for":{"apiVersion":"v1","kind":"Po/d"}})",
        R"({"name":"x","for":{"apiVersion":"v1","kind":"Pod"},
            "watches":[{"apiVersion":"v1","kind":"Pod","labelSelector":"a
b"}]})"}) {
    auto declaration = parseDeclaration(bad);
    EXPECT_FALSE(declaration) << bad;
  }
  EXPECT_THAT(
      parseDeclaration(R"({"name":"x","for":{"apiVersion":"v1","kind":"Pod","namespace":".."}})")
          .status()
          .message(),
      HasSubstr("for.namespace"));
}

TEST(Declaration, ResyncSecondsThatWouldOverflowAreRefused) {
  // 2,147,484 s overflowed seconds * 1000 in an int: a negative period, a busy loop.
  for (const char* bad : {"2147484", "604801", "-1", "9223372036854775807", "1.5"}) {
    auto declaration = parseDeclaration(
        std::string(R"({"name":"x","for":{"apiVersion":"v1","kind":"Pod"},"resyncSeconds":)") +
        bad + "}");
    EXPECT_FALSE(declaration) << bad;
  }
  auto week = parseDeclaration(
      R"({"name":"x","for":{"apiVersion":"v1","kind":"Pod"},"resyncSeconds":604800})");
  ASSERT_TRUE(week) << week.status().toString();
  EXPECT_EQ(week->resyncSeconds, 604800);
}

TEST(Declaration, JsonNestedTooDeepIsRefused) {
  const std::string deep = R"({"name":"x","for":{"apiVersion":"v1","kind":"Pod"},"extra":)" +
                           std::string(100'000, '[') + std::string(100'000, ']') + "}";
  EXPECT_THAT(parseDeclaration(deep).status().message(), HasSubstr("nests deeper"));
}

}  // namespace
}  // namespace wop::runtime
