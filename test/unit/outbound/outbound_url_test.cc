#include "outbound/outbound_url.h"

#include <gtest/gtest.h>

#include "wop_abi.h"

namespace wop::outbound {
namespace {

OutboundUrl parsed(std::string_view url) {
  auto result = parseOutboundUrl(url);
  EXPECT_TRUE(result.isOk()) << url << ": " << result.status().toString();
  return result ? *result : OutboundUrl{};
}

std::string refusal(std::string_view url, bool allowHttp = false) {
  auto result = parseOutboundUrl(url, allowHttp);
  return result ? std::string() : result.status().message();
}

TEST(OutboundUrlTest, AnHttpsUrlIsTakenApartAndRebuiltFromItsCheckedParts) {
  auto url = parsed("https://API.Example.com:8443/v1/items?x=1&y=%20");
  EXPECT_EQ(url.host, "api.example.com");
  EXPECT_EQ(url.hostKind, HostKind::kName);
  EXPECT_EQ(url.port, 8443);
  EXPECT_EQ(url.target, "/v1/items?x=1&y=%20");
  EXPECT_EQ(url.text(), "https://api.example.com:8443/v1/items?x=1&y=%20");
  EXPECT_EQ(parsed("https://example.com").text(), "https://example.com:443/");
  EXPECT_EQ(parsed("https://example.com?q").target, "/?q");
}

TEST(OutboundUrlTest, OnlyHttpsIsAcceptedUnlessTheHostAllowsHttp) {
  for (const char* url : {"http://example.com/", "ftp://example.com/", "file:///etc/passwd",
                          "HTTPS://example.com/", "gopher://example.com/", "//example.com/",
                          "example.com", "https:/example.com", " https://example.com/"}) {
    EXPECT_NE(refusal(url), "") << url;
  }
  EXPECT_EQ(refusal("http://127.0.0.1:8080/x", /*allowHttp=*/true), "");
  EXPECT_EQ(parseOutboundUrl("http://example.com/", true)->port, 80);
  EXPECT_NE(refusal("ftp://example.com/", true), "");
}

TEST(OutboundUrlTest, CredentialsInTheUrlAreRefused) {
  EXPECT_NE(refusal("https://user:pass@example.com/"), "");
  EXPECT_NE(refusal("https://user@example.com/"), "");
  EXPECT_NE(refusal("https://example.com@169.254.169.254/"), "");
  EXPECT_NE(refusal("https://allowed.com\\@evil.com/"), "");  // a backslash in the target
  EXPECT_NE(refusal("https://allowed.com#@evil.com/"), "");
  EXPECT_NE(refusal("https://allowed.com/#frag"), "");
}

TEST(OutboundUrlTest, Ipv4IsAcceptedOnlyInDottedDecimal) {
  auto url = parsed("https://10.0.0.7:8443/");
  EXPECT_EQ(url.hostKind, HostKind::kIpv4);
  EXPECT_EQ(url.host, "10.0.0.7");
  // Every other form a resolver reads as IPv4 is refused, not taken for a name.
  for (const char* url : {"https://127.1/", "https://2130706433/", "https://0x7f.0.0.1/",
                          "https://0177.0.0.1/", "https://127.000.000.001/", "https://0x7f000001/",
                          "https://127.0.0.256/", "https://1.2.3.4.5/", "https://169.254.169.254./",
                          "https://example.1/", "https://example.0x1/"}) {
    EXPECT_NE(refusal(url), "") << url;
  }
}

TEST(OutboundUrlTest, Ipv6IsAcceptedInBracketsWithoutAZoneAndCanonicalised) {
  auto url = parsed("https://[2001:DB8:0:0::1]:8443/x");
  EXPECT_EQ(url.hostKind, HostKind::kIpv6);
  EXPECT_EQ(url.host, "2001:db8::1");
  EXPECT_EQ(url.text(), "https://[2001:db8::1]:8443/x");
  EXPECT_EQ(parsed("https://[::ffff:169.254.169.254]/").host, "::ffff:169.254.169.254");
  for (const char* url :
       {"https://[fe80::1%25eth0]/", "https://[fe80::1%eth0]/", "https://[::1/", "https://::1/",
        "https://[::1]x/", "https://[12345::]/", "https://[::g]/"}) {
    EXPECT_NE(refusal(url), "") << url;
  }
}

TEST(OutboundUrlTest, NamesAreAsciiLabelsAndAnIdnMustBeInItsALabelForm) {
  EXPECT_EQ(parsed("https://xn--bcher-kva.example/").host, "xn--bcher-kva.example");
  for (const char* url :
       {"https://bücher.example/", "https://ex%61mple.com/", "https://exa mple.com/",
        "https://-example.com/", "https://example-.com/", "https://example..com/",
        "https://.example.com/", "https://example.com./", "https://exa_mple.com/",
        "https://example.com\r\nHost: evil/", "https:///path", "https://:443/"}) {
    EXPECT_NE(refusal(url), "") << url;
  }
  EXPECT_NE(refusal("https://" + std::string(64, 'a') + ".com/"), "");
  EXPECT_NE(refusal(std::string("https://example.com\0.evil.com/", 30)), "");
}

TEST(OutboundUrlTest, PortsAreOneTo65535InDecimal) {
  EXPECT_EQ(parsed("https://example.com:1/").port, 1);
  EXPECT_EQ(parsed("https://example.com:65535/").port, 65535);
  for (const char* url :
       {"https://example.com:0/", "https://example.com:65536/", "https://example.com:/",
        "https://example.com:-1/", "https://example.com:0x1bb/", "https://example.com:443:443/",
        "https://example.com:000443/", "https://example.com: 443/"}) {
    EXPECT_NE(refusal(url), "") << url;
  }
}

TEST(OutboundUrlTest, ThePathAndQueryArePrintableAsciiWithWellFormedEscapes) {
  for (const char* url :
       {"https://example.com/a b", "https://example.com/a\r\nX: y", "https://example.com/%",
        "https://example.com/%zz", "https://example.com/%2", "https://example.com/\x7f",
        "https://example.com/é", "https://example.com/\"", "https://example.com/a\\b"}) {
    EXPECT_NE(refusal(url), "") << url;
  }
  EXPECT_EQ(parsed("https://example.com/a/../b?c=%2F").target, "/a/../b?c=%2F");
}

TEST(OutboundUrlTest, AVeryLongUrlIsOverTheLimit) {
  const std::string url = "https://example.com/" + std::string(WOP_HTTP_MAX_URL_BYTES, 'a');
  auto result = parseOutboundUrl(url);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.status().code(), common::StatusCode::kResourceExhausted);
  EXPECT_EQ(refusal("https://example.com/" + std::string(3000, 'a')), "");
}

}  // namespace
}  // namespace wop::outbound
