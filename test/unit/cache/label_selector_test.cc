#include "cache/label_selector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace wop::cache {
namespace {

using ::testing::HasSubstr;

LabelSelector parsed(std::string_view text) {
  auto selector = LabelSelector::parse(text);
  EXPECT_TRUE(selector) << text << ": " << selector.status().message();
  return selector ? *selector : LabelSelector();
}

std::string errorOf(std::string_view text) {
  auto selector = LabelSelector::parse(text);
  EXPECT_FALSE(selector) << text << " parsed as " << (selector ? selector->toString() : "");
  return selector ? "" : selector.status().message();
}

CachedObject labelled(std::vector<std::pair<std::string, std::string>> labels) {
  CachedObject object;
  object.name = "x";
  std::sort(labels.begin(), labels.end());
  object.labels = std::move(labels);
  return object;
}

bool within(std::string_view narrow, std::string_view broad) {
  return parsed(narrow).within(parsed(broad));
}

TEST(LabelSelector, EmptyTextMatchesEverything) {
  for (std::string_view text : {"", "   "}) {
    auto selector = parsed(text);
    EXPECT_TRUE(selector.empty());
    EXPECT_TRUE(selector.matches(labelled({})));
    EXPECT_TRUE(selector.matches(labelled({{"a", "b"}})));
    EXPECT_EQ(selector.toString(), "");
  }
}

TEST(LabelSelector, EqualityTerms) {
  const auto object = labelled({{"app", "web"}, {"tier", "front"}});
  EXPECT_TRUE(parsed("app=web").matches(object));
  EXPECT_TRUE(parsed("app==web").matches(object));
  EXPECT_TRUE(parsed("app = web , tier==front").matches(object));
  EXPECT_FALSE(parsed("app=db").matches(object));
  EXPECT_FALSE(parsed("app=web,tier=back").matches(object));
  EXPECT_FALSE(parsed("app!=web").matches(object));
  EXPECT_TRUE(parsed("app!=db").matches(object));
  EXPECT_TRUE(parsed("zone!=east").matches(object));  // a missing label is not equal
  EXPECT_FALSE(parsed("zone=east").matches(object));
}

TEST(LabelSelector, ExistenceTerms) {
  const auto object = labelled({{"app", "web"}});
  EXPECT_TRUE(parsed("app").matches(object));
  EXPECT_FALSE(parsed("!app").matches(object));
  EXPECT_FALSE(parsed("zone").matches(object));
  EXPECT_TRUE(parsed("! zone").matches(object));
}

TEST(LabelSelector, SetBasedTerms) {
  const auto web = labelled({{"app", "web"}});
  const auto none = labelled({});
  EXPECT_TRUE(parsed("app in (web,db)").matches(web));
  EXPECT_TRUE(parsed("app in ( db , web )").matches(web));
  EXPECT_TRUE(parsed("app in(web)").matches(web));
  EXPECT_FALSE(parsed("app in (db)").matches(web));
  EXPECT_FALSE(parsed("app in (web)").matches(none));
  EXPECT_FALSE(parsed("app notin (web,db)").matches(web));
  EXPECT_TRUE(parsed("app notin (db)").matches(web));
  EXPECT_TRUE(parsed("app notin (web)").matches(none));  // a missing label is in no set
  EXPECT_TRUE(parsed("app in (web,db),!zone,app").matches(web));
}

TEST(LabelSelector, KeysMayHaveAPrefixAndValuesMayBeEmpty) {
  EXPECT_TRUE(parsed("app.kubernetes.io/name=ring")
                  .matches(labelled({{"app.kubernetes.io/name", "ring"}})));
  EXPECT_TRUE(parsed("flag=").matches(labelled({{"flag", ""}})));
  EXPECT_FALSE(parsed("flag=").matches(labelled({{"flag", "x"}})));
}

TEST(LabelSelector, ErrorsNameTheBadTerm) {
  EXPECT_THAT(errorOf("app=web,tier in (a"), HasSubstr("\"tier in (a\""));
  EXPECT_THAT(errorOf("app=web,tier in a"), HasSubstr("\"tier in a\""));
  EXPECT_THAT(errorOf("app=web,tier in ()"), HasSubstr("empty"));
  EXPECT_THAT(errorOf("app=web,,x"), HasSubstr("empty"));
  EXPECT_THAT(errorOf("app=web,"), HasSubstr("empty"));
  EXPECT_THAT(errorOf("a b"), HasSubstr("\"a b\""));
  EXPECT_THAT(errorOf("app=we b"), HasSubstr("\"we b\" is not a label value"));
  EXPECT_THAT(errorOf("-app=web"), HasSubstr("is not a label key"));
  EXPECT_THAT(errorOf("Bad_Prefix/app=web"), HasSubstr("prefix"));
  EXPECT_THAT(errorOf("app>1"), HasSubstr("\"app>1\""));
  EXPECT_THAT(errorOf("a in ((b))"), HasSubstr("parentheses"));
  EXPECT_THAT(errorOf("a in (b))"), HasSubstr("parentheses"));
  EXPECT_THAT(errorOf("=b"), HasSubstr("\"=b\""));
  EXPECT_THAT(errorOf(std::string(5000, 'a')), HasSubstr("longer"));
}

TEST(LabelSelector, ToStringIsCanonicalAndParsesBack) {
  EXPECT_EQ(parsed("tier==front, app=web").toString(), "app=web,tier=front");
  EXPECT_EQ(parsed("app in (web)").toString(), "app=web");
  EXPECT_EQ(parsed("app notin (web)").toString(), "app!=web");
  EXPECT_EQ(parsed("app in (web, db, web)").toString(), "app in (db,web)");
  EXPECT_EQ(parsed("b notin (y,x), !a, c, c").toString(), "!a,b notin (x,y),c");
  for (std::string_view text :
       {"app=web,tier=front", "app in (db,web)", "!a,b notin (x,y),c", "flag=", "a in (,b)"}) {
    EXPECT_EQ(parsed(parsed(text).toString()), parsed(text)) << text;
    EXPECT_EQ(parsed(text).toString(), text);
  }
}

TEST(LabelSelector, WithinTheBriefsCases) {
  EXPECT_TRUE(within("a=b", "a"));
  EXPECT_TRUE(within("a=b", "a in (b,c)"));
  EXPECT_TRUE(within("a in (b)", "a!=c"));
  EXPECT_FALSE(within("a", "a=b"));
}

TEST(LabelSelector, WithinEqualAndEmptySelectors) {
  EXPECT_TRUE(within("a=b", "a=b"));
  EXPECT_TRUE(within("a=b,c=d", "c=d"));  // more terms select fewer objects
  EXPECT_TRUE(within("a=b", ""));         // an unselected watch holds everything
  EXPECT_TRUE(within("", ""));
  EXPECT_FALSE(within("", "a=b"));
  EXPECT_FALSE(within("c=d", "a=b"));
}

TEST(LabelSelector, WithinSetBasedSelectors) {
  EXPECT_FALSE(within("a in (b,c)", "a=b"));
  EXPECT_TRUE(within("a in (b,c)", "a in (b,c,d)"));
  EXPECT_FALSE(within("a in (b,c)", "a!=c"));
  EXPECT_TRUE(within("a notin (b,c)", "a!=b"));
  EXPECT_FALSE(within("a!=b", "a notin (b,c)"));
  EXPECT_FALSE(within("a!=b", "a"));  // objects without a are matched by a!=b
  EXPECT_TRUE(within("!a", "a!=b"));
  EXPECT_TRUE(within("!a", "!a"));
  EXPECT_FALSE(within("!a", "a"));
  EXPECT_FALSE(within("a", "!a"));
  EXPECT_TRUE(within("a", "a"));
  EXPECT_FALSE(within("a", "a notin (b)"));
}

TEST(LabelSelector, WithinCombinesTermsOnOneKey) {
  EXPECT_TRUE(within("a,a!=b", "a notin (b)"));
  EXPECT_TRUE(within("a in (b,c),a!=c", "a=b"));
  EXPECT_FALSE(within("a in (b,c),a!=d", "a=b"));
  // Matches nothing, so any watch holds all of it.
  EXPECT_TRUE(within("a=b,a=c", "x=y"));
  EXPECT_TRUE(within("a,!a", "x=y"));
}

}  // namespace
}  // namespace wop::cache
