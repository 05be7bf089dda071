#include "outbound/allowed_hosts.h"

#include <gtest/gtest.h>

namespace wop::outbound {
namespace {

AllowedHosts hosts(std::vector<std::string> entries) {
  auto parsed = AllowedHosts::parse(entries);
  EXPECT_TRUE(parsed.isOk()) << parsed.status().toString();
  return parsed ? *parsed : AllowedHosts();
}

bool allows(const AllowedHosts& allowed, std::string_view url) {
  auto parsed = parseOutboundUrl(url);
  EXPECT_TRUE(parsed.isOk()) << url << ": " << parsed.status().toString();
  return parsed && allowed.allows(*parsed);
}

TEST(AllowedHostsTest, NothingIsAllowedUnlessListed) {
  EXPECT_FALSE(allows(AllowedHosts(), "https://api.example.com/"));
  EXPECT_FALSE(allows(hosts({}), "https://api.example.com/"));
}

TEST(AllowedHostsTest, AnExactHostMatchesOnlyItselfAtItsPort) {
  auto allowed = hosts({"https://api.example.com"});
  EXPECT_TRUE(allows(allowed, "https://api.example.com/v1"));
  EXPECT_TRUE(allows(allowed, "https://API.EXAMPLE.COM:443/v1"));
  EXPECT_FALSE(allows(allowed, "https://api.example.com:8443/"));
  EXPECT_FALSE(allows(allowed, "https://x.api.example.com/"));
  EXPECT_FALSE(allows(allowed, "https://api.example.com.evil.com/"));
  EXPECT_FALSE(allows(allowed, "https://evilapi.example.com/"));
}

TEST(AllowedHostsTest, AWildcardMatchesSubdomainsButNotTheDomainItself) {
  auto allowed = hosts({"https://*.example.com:8443"});
  EXPECT_TRUE(allows(allowed, "https://a.example.com:8443/"));
  EXPECT_TRUE(allows(allowed, "https://a.b.example.com:8443/"));
  EXPECT_FALSE(allows(allowed, "https://example.com:8443/"));
  EXPECT_FALSE(allows(allowed, "https://aexample.com:8443/"));
  EXPECT_FALSE(allows(allowed, "https://a.example.com/"));
  EXPECT_FALSE(allows(allowed, "https://a.example.com.evil.com:8443/"));
}

TEST(AllowedHostsTest, AnyPortAndAddressLiterals) {
  auto allowed = hosts({"https://127.0.0.1:*", "https://[2001:DB8::1]"});
  EXPECT_TRUE(allows(allowed, "https://127.0.0.1:1/"));
  EXPECT_TRUE(allows(allowed, "https://127.0.0.1:65535/"));
  EXPECT_TRUE(allows(allowed, "https://[2001:db8:0::1]/"));
  EXPECT_FALSE(allows(allowed, "https://[2001:db8::1]:8443/"));
  EXPECT_FALSE(allows(allowed, "https://127.0.0.2/"));
  EXPECT_FALSE(allows(allowed, "https://localhost/"));
}

TEST(AllowedHostsTest, MalformedEntriesAreRefusedNamingTheirPosition) {
  for (const char* entry :
       {"api.example.com", "http://api.example.com", "ftp://api.example.com", "https://*",
        "https://*:443", "https://a.*.com", "https://*example.com", "https://*.127.0.0.1",
        "https://api.example.com/", "https://api.example.com/path", "https://u@api.example.com",
        "https://api.example.com:0", "https://api.example.com:70000", "https://api.example.com:x",
        "https://127.1", "https://bücher.example", "https://[fe80::1%25eth0]", "https://"}) {
    auto parsed = AllowedHosts::parse({"https://ok.example.com", entry});
    ASSERT_FALSE(parsed.isOk()) << entry;
    EXPECT_NE(parsed.status().message().find("allowedHosts[1]"), std::string::npos);
  }
  EXPECT_FALSE(
      AllowedHosts::parse(std::vector<std::string>(kMaxAllowedHosts + 1, "https://a.example.com"))
          .isOk());
  EXPECT_FALSE(AllowedHosts::parse({"https://" + std::string(300, 'a')}).isOk());
}

TEST(AllowedHostsTest, HttpEntriesOnlyWhenTheHostAllowsHttp) {
  EXPECT_FALSE(AllowedHosts::parse({"http://127.0.0.1:8080"}).isOk());
  auto allowed = AllowedHosts::parse({"http://127.0.0.1:8080"}, /*allowHttp=*/true);
  ASSERT_TRUE(allowed.isOk());
  auto url = parseOutboundUrl("http://127.0.0.1:8080/", true);
  EXPECT_TRUE(allowed->allows(*url));
  EXPECT_FALSE(allowed->allows(*parseOutboundUrl("https://127.0.0.1:8080/")));
}

}  // namespace
}  // namespace wop::outbound
