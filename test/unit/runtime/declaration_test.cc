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

}  // namespace
}  // namespace wop::runtime
