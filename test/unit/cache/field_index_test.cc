#include "cache/field_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/limits.h"

namespace wop::cache {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using From = IndexSpec::From;

ObjectPtr decoded(const std::string& json) {
  simdjson::dom::parser parser;
  auto object = decodeObjectJson(parser, json, {});
  EXPECT_TRUE(object) << object.status().toString();
  return object ? *object : nullptr;
}

IndexSpec spec(From from, const std::string& argument) {
  auto made = IndexSpec::make(from, argument);
  EXPECT_TRUE(made) << made.status().toString();
  return *made;
}

std::vector<std::string> valuesOf(const IndexSpec& s, const std::string& json) {
  return indexValues({s}, *decoded(json))[0];
}

const std::string kConsumer = R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{
    "namespace":"a","name":"c","labels":{"team":"blue"},
    "annotations":{"example.com/source":"shop/settings"}},
    "spec":{"sourceRef":"shop/settings","refs":["x","y","x",7,{"n":"z"}],"count":3,
            "a/b":{"m~n":"escaped"}}})";

TEST(IndexSpec, APointerMustParseAndAKeyMustBeALabelKey) {
  EXPECT_TRUE(IndexSpec::make(From::kJsonPointer, "/spec/sourceRef"));
  EXPECT_TRUE(IndexSpec::make(From::kJsonPointer, "/spec/a~1b/m~0n"));
  EXPECT_TRUE(IndexSpec::make(From::kLabel, "example.com/team"));
  EXPECT_TRUE(IndexSpec::make(From::kAnnotation, "team"));
  EXPECT_THAT(IndexSpec::make(From::kJsonPointer, "spec/sourceRef").status().message(),
              HasSubstr("must start with \"/\""));
  EXPECT_THAT(IndexSpec::make(From::kJsonPointer, "/spec/~2").status().message(),
              HasSubstr("\"~\" not followed by 0 or 1"));
  EXPECT_THAT(IndexSpec::make(From::kJsonPointer, "/spec/~").status().message(),
              HasSubstr("\"~\" not followed by 0 or 1"));
  EXPECT_THAT(IndexSpec::make(From::kJsonPointer, std::string("/a\0b", 4)).status().message(),
              HasSubstr("control character"));
  EXPECT_THAT(
      IndexSpec::make(From::kJsonPointer, "/" + std::string(limits::kMaxJsonPointerBytes, 'a'))
          .status()
          .message(),
      HasSubstr("longer than 256"));
  for (const char* bad : {"", "-team", "a b", "UPPER_/x", "a/b/c", "x/"}) {
    EXPECT_FALSE(IndexSpec::make(From::kLabel, bad)) << bad;
    EXPECT_FALSE(IndexSpec::make(From::kAnnotation, bad)) << bad;
  }
}

TEST(IndexSpec, EqualSpecsHaveEqualIds) {
  EXPECT_EQ(spec(From::kLabel, "team").id(), "label:team");
  EXPECT_EQ(spec(From::kJsonPointer, "/spec/x").id(), "jsonPointer:/spec/x");
  EXPECT_NE(spec(From::kLabel, "team").id(), spec(From::kAnnotation, "team").id());
}

TEST(IndexValues, APointerToAStringGivesThatString) {
  EXPECT_THAT(valuesOf(spec(From::kJsonPointer, "/spec/sourceRef"), kConsumer),
              ElementsAre("shop/settings"));
  EXPECT_THAT(valuesOf(spec(From::kJsonPointer, "/spec/a~1b/m~0n"), kConsumer),
              ElementsAre("escaped"));
}

TEST(IndexValues, APointerToAnArrayGivesItsStringsOnceEach) {
  EXPECT_THAT(valuesOf(spec(From::kJsonPointer, "/spec/refs"), kConsumer), ElementsAre("x", "y"));
  EXPECT_THAT(valuesOf(spec(From::kJsonPointer, "/spec/refs/1"), kConsumer), ElementsAre("y"));
}

TEST(IndexValues, NothingForOtherTypesOrMissingFields) {
  for (const char* pointer : {"/spec/count", "/spec", "/spec/missing", "/spec/refs/9", ""})
    EXPECT_THAT(valuesOf(spec(From::kJsonPointer, pointer), kConsumer), IsEmpty()) << pointer;
  EXPECT_THAT(valuesOf(spec(From::kLabel, "missing"), kConsumer), IsEmpty());
  EXPECT_THAT(valuesOf(spec(From::kAnnotation, "missing"), kConsumer), IsEmpty());
}

TEST(IndexValues, LabelsAndAnnotationsGiveTheirValues) {
  EXPECT_THAT(valuesOf(spec(From::kLabel, "team"), kConsumer), ElementsAre("blue"));
  EXPECT_THAT(valuesOf(spec(From::kAnnotation, "example.com/source"), kConsumer),
              ElementsAre("shop/settings"));
}

TEST(IndexValues, OneParseServesEverySpecInOrder) {
  auto values = indexValues({spec(From::kLabel, "team"), spec(From::kJsonPointer, "/spec/refs")},
                            *decoded(kConsumer));
  ASSERT_EQ(values.size(), 2u);
  EXPECT_THAT(values[0], ElementsAre("blue"));
  EXPECT_THAT(values[1], ElementsAre("x", "y"));
}

TEST(IndexValues, ValuesTooLongOrTooManyAreNotIndexed) {
  const std::string longValue(limits::kMaxIndexValueBytes + 1, 'v');
  const std::string fits(limits::kMaxIndexValueBytes, 'f');
  EXPECT_THAT(valuesOf(spec(From::kJsonPointer, "/spec/v"),
                       R"({"metadata":{"name":"n"},"spec":{"v":")" + longValue + "\"}}"),
              IsEmpty());
  EXPECT_THAT(valuesOf(spec(From::kJsonPointer, "/spec/v"),
                       R"({"metadata":{"name":"n"},"spec":{"v":")" + fits + "\"}}"),
              ElementsAre(fits));
  std::string many = R"({"metadata":{"name":"n"},"spec":{"v":[)";
  for (size_t i = 0; i < 3 * limits::kMaxIndexValuesPerObject; ++i)
    many += (i ? ",\"" : "\"") + std::to_string(i) + "\"";
  many += "]}}";
  EXPECT_EQ(valuesOf(spec(From::kJsonPointer, "/spec/v"), many).size(),
            limits::kMaxIndexValuesPerObject);
}

TEST(FieldIndex, FindsKeysByValueAndForgetsReplacedValues) {
  FieldIndex index;
  index.set("a/one", {"s1", "s2"});
  index.set("b/two", {"s1"});
  index.set("ab/three", {"s1"});  // shares the prefix "a" but not "a/"
  EXPECT_THAT(index.keys("s1", ""), ElementsAre("a/one", "ab/three", "b/two"));
  EXPECT_THAT(index.keys("s1", "a"), ElementsAre("a/one"));
  EXPECT_THAT(index.keys("s2", ""), ElementsAre("a/one"));
  index.set("a/one", {"s3"});
  EXPECT_THAT(index.keys("s2", ""), IsEmpty());
  EXPECT_THAT(index.keys("s3", ""), ElementsAre("a/one"));
  index.erase("b/two");
  EXPECT_THAT(index.keys("s1", ""), ElementsAre("ab/three"));
}

TEST(FieldIndex, ItsBytesGrowWithItsEntriesAndReturnToZero) {
  FieldIndex index;
  EXPECT_EQ(index.memoryBytes(), 0u);
  index.set("a/one", {std::string(100, 'v'), "short"});
  const size_t one = index.memoryBytes();
  EXPECT_GT(one, 100u);
  index.set("a/two", {std::string(100, 'v')});
  EXPECT_GT(index.memoryBytes(), one);
  index.set("a/one", {});
  index.erase("a/two");
  index.erase("a/never");
  EXPECT_EQ(index.memoryBytes(), 0u);
  EXPECT_EQ(index.values(), 0u);
}

}  // namespace
}  // namespace wop::cache
