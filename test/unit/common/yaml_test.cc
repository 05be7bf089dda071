#include "common/yaml.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wop::common {
namespace {

using ::testing::HasSubstr;

nlohmann::json onlyDocument(std::string_view text) {
  auto documents = parseYamlDocuments(text, "/t.yaml");
  EXPECT_TRUE(documents.isOk()) << documents.status().message();
  if (!documents || documents->size() != 1) return nullptr;
  return documents->front();
}

std::string errorOf(std::string_view text) {
  auto documents = parseYamlDocuments(text, "/t.yaml");
  EXPECT_FALSE(documents.isOk()) << "parsed: " << text;
  return documents ? "" : documents.status().message();
}

TEST(Yaml, PlainScalarsAreTypedAndQuotedOnesStayStrings) {
  auto doc = onlyDocument(
      "a: 1\nb: -2.5\nc: true\nd: ~\ne: '1'\nf: \"true\"\ng: 0x10\nh: nan\ni: |\n  7\n");
  EXPECT_EQ(
      doc,
      nlohmann::json::parse(
          R"({"a":1,"b":-2.5,"c":true,"d":null,"e":"1","f":"true","g":"0x10","h":"nan","i":"7\n"})"));
}

TEST(Yaml, ExplicitStringTagKeepsText) { EXPECT_EQ(onlyDocument("v: !!str 42\n")["v"], "42"); }

TEST(Yaml, FlowAndBlockCollectionsNest) {
  auto doc = onlyDocument("spec:\n  items: [1, {x: y}]\n  more:\n    - a\n    - b: c\n");
  EXPECT_EQ(doc,
            nlohmann::json::parse(R"({"spec":{"items":[1,{"x":"y"}],"more":["a",{"b":"c"}]}})"));
}

TEST(Yaml, NumericKeysAreKeptAsText) { EXPECT_EQ(onlyDocument("80: http\n")["80"], "http"); }

TEST(Yaml, EveryDocumentOfAStreamEmptyOnesSkipped) {
  auto documents = parseYamlDocuments("a: 1\n---\n---\n# only a comment\n---\n- b\n", "/t.yaml");
  ASSERT_TRUE(documents.isOk()) << documents.status().message();
  ASSERT_EQ(documents->size(), 2u);
  EXPECT_EQ((*documents)[0], nlohmann::json::parse(R"({"a":1})"));
  EXPECT_EQ((*documents)[1], nlohmann::json::parse(R"(["b"])"));
  EXPECT_TRUE(parseYamlDocuments("", "/t.yaml")->empty());
}

TEST(Yaml, AliasesCopyTheAnchoredValue) {
  auto doc = onlyDocument("base: &b {x: 1}\nfirst: *b\nname: &n web\n*n : 2\n");
  EXPECT_EQ(doc, nlohmann::json::parse(R"({"base":{"x":1},"first":{"x":1},"name":"web","web":2})"));
}

TEST(Yaml, AnchorsDoNotReachAcrossDocuments) {
  EXPECT_THAT(errorOf("a: &x 1\n---\nb: *x\n"),
              HasSubstr("/t.yaml: line 3: alias *x names no anchor"));
}

TEST(Yaml, AliasBombIsRefusedNotExpanded) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char level = 'b'; level <= 'j'; ++level) {
    const char below = static_cast<char>(level - 1);
    bomb += std::string(1, level) + ": &" + level + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + below;
    bomb += "]\n";
  }
  EXPECT_THAT(errorOf(bomb), HasSubstr("more than 200000 nodes"));
}

TEST(Yaml, ALargeDocumentWithinTheBudgetParses) {
  std::string items;
  for (int i = 0; i < 40'000; ++i) items += "- {a: 1, b: 2}\n";  // 120,001 nodes, nested
  auto documents = parseYamlDocuments(items, "/t.yaml");
  ASSERT_TRUE(documents.isOk()) << documents.status().message();
  EXPECT_EQ(documents->front().size(), 40'000u);
}

TEST(Yaml, DuplicateKeysAreRefusedWithTheirLine) {
  EXPECT_EQ(errorOf("a: 1\nb: 2\na: 3\n"), "/t.yaml: line 3: mapping key \"a\" appears twice");
}

TEST(Yaml, CollectionKeysAreRefused) {
  EXPECT_THAT(errorOf("? [a, b]\n: c\n"), HasSubstr("a mapping key is not a plain string"));
}

TEST(Yaml, NestingIsBounded) {
  EXPECT_THAT(errorOf(std::string(65, '[') + std::string(65, ']')),
              HasSubstr("nested deeper than 64 levels"));
  EXPECT_TRUE(parseYamlDocuments(std::string(64, '[') + std::string(64, ']'), "/t.yaml").isOk());
}

TEST(Yaml, SyntaxErrorsNameLineAndProblem) {
  EXPECT_THAT(errorOf("kind: [unclosed\n"),
              HasSubstr("/t.yaml: not valid YAML: line 2 column 1: did not find expected"));
  EXPECT_THAT(errorOf("a: b: c\n"), HasSubstr("line 1"));
  EXPECT_THAT(errorOf(",!"), HasSubstr("not valid YAML"));
}

TEST(Yaml, BytesOutsidePrintableUtf8AreRefusedFirst) {
  EXPECT_EQ(errorOf("a: 1\nb: \x01\n"),
            "/t.yaml: line 2: control character 1 is not allowed in YAML");
  EXPECT_THAT(errorOf("a: \xff\n"), HasSubstr("line 1: not valid UTF-8 (byte 3)"));
}

// Inputs that broke earlier parsers (found by our fuzzers): each must be an error, not a
// crash or a hang.
TEST(Yaml, InputsThatBrokeEarlierParsersAreErrors) {
  // libfyaml 0.7.12 looped on a directive line followed by bytes outside UTF-8.
  EXPECT_FALSE(parseYamlDocuments("%!\n%YAML 1.2\n", "/t.yaml").isOk());
  // libfyaml 0.7.12 wrote past its stack on lines of tabs (CI, fuzz.operator_definitions).
  std::string tabs = std::string(56, '\t') + "Y" + std::string(35, '\t') + "I\n\n\np!V\n\nsio" +
                     std::string(120, '\t') + "\n" + std::string(15, '\t') + "2\t\t\t\t\tn: rasi";
  EXPECT_FALSE(parseYamlDocuments(tabs, "/t.yaml").isOk());
}

TEST(Yaml, DirectivesAreAccepted) { EXPECT_EQ(onlyDocument("%YAML 1.1\n---\na: 1\n")["a"], 1); }

}  // namespace
}  // namespace wop::common
