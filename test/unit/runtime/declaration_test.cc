#include "runtime/declaration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "wop_abi.h"

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

// ---------------------------------------------------------------------------- field indexes

// A controller of ConfigMaps with `indexes` (JSON text of the array).
common::Result<ControllerDeclaration> withIndexes(const std::string& indexes) {
  return parseDeclaration(R"({"name":"c","for":{"apiVersion":"v1","kind":"ConfigMap"},
      "watches":[{"apiVersion":"apps/v1","kind":"Deployment","mapTo":"none"}],"indexes":)" +
                          indexes + "}");
}

std::string refusal(const std::string& indexes) {
  auto d = withIndexes(indexes);
  return d ? "accepted" : d.status().message();
}

TEST(DeclarationIndexes, ParsesEachExtractor) {
  auto d = withIndexes(R"([
      {"apiVersion":"v1","kind":"ConfigMap","name":"spec.sourceRef","jsonPointer":"/data/source"},
      {"apiVersion":"v1","kind":"ConfigMap","name":"team","label":"example.com/team"},
      {"apiVersion":"apps/v1","kind":"Deployment","name":"owner","annotation":"owner"}])");
  ASSERT_TRUE(d) << d.status().toString();
  ASSERT_EQ(d->indexes.size(), 3u);
  EXPECT_EQ(d->indexes[0].name, "spec.sourceRef");
  EXPECT_EQ(d->indexes[0].spec.id(), "jsonPointer:/data/source");
  EXPECT_EQ(d->indexes[1].spec.id(), "label:example.com/team");
  EXPECT_EQ(d->indexes[2].kind, "Deployment");
  EXPECT_EQ(d->indexes[2].spec.id(), "annotation:owner");
}

TEST(DeclarationIndexes, HostileIndexesAreRefusedNamingTheField) {
  const std::string cm = R"("apiVersion":"v1","kind":"ConfigMap")";
  EXPECT_THAT(refusal(R"({"x":1})"), HasSubstr("indexes must be an array"));
  EXPECT_THAT(refusal("[1]"), HasSubstr("indexes[0] must be an object"));
  EXPECT_THAT(refusal(R"([{"kind":"ConfigMap","name":"n","label":"a"}])"),
              HasSubstr("indexes[0].apiVersion is required"));
  EXPECT_THAT(refusal(R"([{"apiVersion":"v1/../x","kind":"ConfigMap","name":"n","label":"a"}])"),
              HasSubstr("indexes[0].apiVersion"));
  EXPECT_THAT(refusal("[{" + cm + R"(,"label":"a"}])"), HasSubstr("indexes[0].name must be"));
  EXPECT_THAT(refusal("[{" + cm + R"(,"name":"has space","label":"a"}])"),
              HasSubstr("indexes[0].name must be"));
  EXPECT_THAT(refusal("[{" + cm + R"(,"name":")" + std::string(129, 'n') + R"(","label":"a"}])"),
              HasSubstr("indexes[0].name must be"));
  EXPECT_THAT(refusal("[{" + cm + R"(,"name":"n"}])"), HasSubstr("exactly one of"));
  EXPECT_THAT(refusal("[{" + cm + R"(,"name":"n","label":"a","annotation":"a"}])"),
              HasSubstr("exactly one of"));
  EXPECT_THAT(refusal("[{" + cm + R"(,"name":"n","label":7}])"),
              HasSubstr("indexes[0].label must be a string"));
  EXPECT_THAT(refusal("[{" + cm + R"(,"name":"n","jsonPointer":"data/x"}])"),
              HasSubstr("indexes[0].jsonPointer: JSON pointer must start with"));
  EXPECT_THAT(refusal("[{" + cm + R"(,"name":"n","jsonPointer":"/a~9"}])"),
              HasSubstr("not followed by 0 or 1"));
  EXPECT_THAT(
      refusal("[{" + cm + R"(,"name":"n","jsonPointer":"/)" + std::string(300, 'p') + R"("}])"),
      HasSubstr("longer than"));
  EXPECT_THAT(refusal("[{" + cm + R"(,"name":"n","label":"bad key!"}])"),
              HasSubstr("indexes[0].label"));
  EXPECT_THAT(refusal("[{" + cm + R"(,"name":"n","annotation":"/x"}])"),
              HasSubstr("indexes[0].annotation"));
  EXPECT_THAT(refusal(R"([{"apiVersion":"v1","kind":"Secret","name":"n","label":"a"}])"),
              HasSubstr("indexes[0] is on v1 Secret, which this controller does not watch"));
  EXPECT_THAT(
      refusal("[{" + cm + R"(,"name":"n","label":"a"},{)" + cm + R"(,"name":"n","label":"b"}])"),
      HasSubstr("indexes[1] declares index \"n\" of v1 ConfigMap again"));
  EXPECT_EQ(
      refusal("[{" + cm + R"(,"name":"n","label":"a"},{)" + cm + R"(,"name":"n","label":"a"}])"),
      "accepted")
      << "the same index twice is harmless";
  std::string many = "[";
  for (size_t i = 0; i <= WOP_MAX_INDEXES; ++i)
    many += (i ? ",{" : "{") + cm + R"(,"name":"n)" + std::to_string(i) + R"(","label":"a"})";
  EXPECT_THAT(refusal(many + "]"), HasSubstr("indexes has more than 16 entries"));
}

TEST(DeclarationIndexes, AnOperatorHasAtMost16AndOneMeaningPerName) {
  auto declare = [](int count, const std::string& prefix, const std::string& label) {
    std::string indexes = "[";
    for (int i = 0; i < count; ++i) {
      indexes += std::string(i ? "," : "") + R"({"apiVersion":"v1","kind":"ConfigMap","name":")" +
                 prefix + std::to_string(i) + R"(","label":")" + label + R"("})";
    }
    auto d = withIndexes(indexes + "]");
    EXPECT_TRUE(d) << d.status().toString();
    return *d;
  };
  std::vector<ControllerDeclaration> declared = {declare(10, "a", "x")};
  EXPECT_TRUE(checkOperatorIndexes(declared, declare(6, "b", "x")).isOk());
  auto tooMany = checkOperatorIndexes(declared, declare(7, "b", "x"));
  EXPECT_EQ(tooMany.code(), common::StatusCode::kResourceExhausted);
  EXPECT_TRUE(checkOperatorIndexes(declared, declare(2, "a", "x")).isOk()) << "same meaning";
  auto clash = checkOperatorIndexes(declared, declare(2, "a", "y"));
  EXPECT_EQ(clash.code(), common::StatusCode::kInvalidArgument);
  EXPECT_THAT(clash.message(), HasSubstr("index \"a0\" of v1 ConfigMap again"));
  EXPECT_THAT(clash.message(), HasSubstr("beside controller c"));
}

}  // namespace
}  // namespace wop::runtime
