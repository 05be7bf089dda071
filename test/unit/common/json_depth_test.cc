#include "common/json_depth.h"

#include <gtest/gtest.h>

#include <string>

namespace wop::common {
namespace {

TEST(JsonDepth, CountsNestedArraysAndObjects) {
  EXPECT_TRUE(jsonDepthWithin("1", 0));
  EXPECT_TRUE(jsonDepthWithin("{}", 1));
  EXPECT_FALSE(jsonDepthWithin("{}", 0));
  EXPECT_TRUE(jsonDepthWithin(R"({"a":[{"b":[]}],"c":{}})", 4));
  EXPECT_FALSE(jsonDepthWithin(R"({"a":[{"b":[]}],"c":{}})", 3));
}

TEST(JsonDepth, BracketsInStringsDoNotCount) {
  EXPECT_TRUE(jsonDepthWithin(R"({"a":"[[[[{{{{"})", 1));
  EXPECT_TRUE(jsonDepthWithin(R"({"a":"\"[[[["})", 1));
  EXPECT_FALSE(jsonDepthWithin(R"({"a":"\\",[[[]]]})", 3));
}

TEST(JsonDepth, ADocumentNestedAQuarterMillionDeepIsRefusedWithoutRecursion) {
  const size_t depth = 300'000;
  const std::string deep = std::string(depth, '[') + std::string(depth, ']');
  EXPECT_FALSE(jsonDepthWithin(deep, 512));
  EXPECT_TRUE(jsonDepthWithin(deep, depth));
}

}  // namespace
}  // namespace wop::common
