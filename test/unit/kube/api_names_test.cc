#include "kube/api_names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace wop::kube {
namespace {

using ::testing::HasSubstr;

TEST(ApiNames, LabelsAndSubdomainsFollowDns1123) {
  EXPECT_TRUE(isDns1123Label("ring-0"));
  EXPECT_TRUE(isDns1123Label("0abc"));
  EXPECT_TRUE(isDns1123Label(std::string(63, 'a')));
  EXPECT_FALSE(isDns1123Label(std::string(64, 'a')));
  for (std::string_view bad : {"", "-a", "a-", "A", "a.b", "a_b", ".", ".."})
    EXPECT_FALSE(isDns1123Label(bad)) << bad;
  EXPECT_TRUE(isDns1123Subdomain("bench.wasm-operator.dev"));
  for (std::string_view bad : {"", ".", "..", "a..b", ".a", "a.", "a/b", "A.b"})
    EXPECT_FALSE(isDns1123Subdomain(bad)) << bad;
  EXPECT_FALSE(isDns1123Subdomain(std::string(127, 'a') + "." + std::string(126, 'a')));
  EXPECT_TRUE(isDns1035Label("v1beta1"));
  EXPECT_FALSE(isDns1035Label("1v"));
}

TEST(ApiNames, ApiVersionsAreAGroupAndAVersionAndNothingElse) {
  for (std::string_view good : {"v1", "apps/v1", "bench.wasm-operator.dev/v1alpha1"})
    EXPECT_TRUE(checkApiVersion(good).isOk()) << good;
  // The path traversal of issue 10, a query, an encoded slash, extra segments, dot segments.
  for (std::string_view bad :
       {"", "/v1", "apps/", "v1/../../api/v1/namespaces/x/services/y:80/proxy/z", "v1?q=1", "v1#x",
        "apps/v1/extra", "../v1", "./v1", "apps%2Fv1", "V1", "v1 ", "a\nb/v1", "apps/v1\r\n"}) {
    auto status = checkApiVersion(bad);
    EXPECT_FALSE(status.isOk()) << bad;
    EXPECT_THAT(status.message(), HasSubstr("apiVersion"));
  }
}

TEST(ApiNames, DotAndDotDotAreNeverNamesOrNamespaces) {
  for (std::string_view bad : {".", ".."}) {
    EXPECT_FALSE(checkObjectName(bad).isOk());
    EXPECT_FALSE(checkNamespace(bad).isOk());
  }
  EXPECT_TRUE(checkNamespace("").isOk());  // all namespaces, or cluster-scoped
  EXPECT_FALSE(checkNamespace("Default").isOk());
  EXPECT_FALSE(checkNamespace("a/b").isOk());
}

TEST(ApiNames, NamesAreWhatTheServerAcceptsInAPath) {
  for (std::string_view good : {"web-0", "a.b.c", "...", "system:controller:x", "x..y"})
    EXPECT_TRUE(checkObjectName(good).isOk()) << good;
  for (std::string_view bad :
       {std::string_view(""), std::string_view("a/b"), std::string_view("a%2Fb"),
        std::string_view("a b"), std::string_view("a\tb"), std::string_view("a\0b", 3),
        std::string_view("a\x7f"), std::string_view("\xC3\x28")})
    EXPECT_FALSE(checkObjectName(bad).isOk()) << bad;
  EXPECT_TRUE(checkObjectName(std::string(253, 'a')).isOk());
  EXPECT_FALSE(checkObjectName(std::string(254, 'a')).isOk());
}

TEST(ApiNames, KindsSelectorsVersionsAndManagersAreBounded) {
  EXPECT_TRUE(checkKind("ConfigMap").isOk());
  for (std::string_view bad : {"", "Config Map", "1Kind", "Kind/x", "K\xC3\xA9"})
    EXPECT_FALSE(checkKind(bad).isOk()) << bad;
  EXPECT_FALSE(checkKind(std::string(64, 'K')).isOk());
  EXPECT_TRUE(checkLabelSelector("app in (a,b),!legacy,tier!=db").isOk());
  EXPECT_FALSE(checkLabelSelector("a=b\n").isOk());
  EXPECT_FALSE(checkLabelSelector(std::string(5000, 'a')).isOk());
  EXPECT_TRUE(checkResourceVersion("12345").isOk());
  EXPECT_FALSE(checkResourceVersion("1 2").isOk());
  EXPECT_FALSE(checkResourceVersion(std::string(129, '1')).isOk());
  EXPECT_TRUE(checkFieldManager("ring-0").isOk());
  EXPECT_FALSE(checkFieldManager(std::string(129, 'm')).isOk());
  EXPECT_FALSE(checkFieldManager("a\x01").isOk());
}

TEST(ApiNames, MessagesQuoteTheInputBoundedAndPrintable) {
  auto status = checkApiVersion(std::string(1000, 'x') + "\n/v1");
  EXPECT_LT(status.message().size(), 400u);
  EXPECT_EQ(status.message().find('\n'), std::string::npos);
}

}  // namespace
}  // namespace wop::kube
