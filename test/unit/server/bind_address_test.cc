#include "server/bind_address.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace wop::server {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The refusal's message for text, or "accepted".
std::string refusal(const std::string& text) {
  auto parsed = parseBindAddress(text);
  return parsed ? "accepted" : parsed.status().message();
}

TEST(BindAddress, ReadsAPortOnEveryInterface) {
  auto parsed = parseBindAddress(":8080");
  ASSERT_TRUE(parsed) << parsed.status().toString();
  EXPECT_EQ(parsed->host, "");
  EXPECT_EQ(parsed->port, 8080);
  EXPECT_EQ(parsed->toString(), ":8080");
}

TEST(BindAddress, ReadsAnIpv4AddressAndAnEphemeralPort) {
  auto parsed = parseBindAddress("127.0.0.1:0");
  ASSERT_TRUE(parsed) << parsed.status().toString();
  EXPECT_EQ(parsed->host, "127.0.0.1");
  EXPECT_EQ(parsed->port, 0);
}

TEST(BindAddress, ReadsAnIpv6AddressInBrackets) {
  auto parsed = parseBindAddress("[::1]:0");
  ASSERT_TRUE(parsed) << parsed.status().toString();
  EXPECT_EQ(parsed->host, "::1");
  EXPECT_EQ(parsed->port, 0);
  EXPECT_EQ(parsed->toString(), "[::1]:0");
  EXPECT_EQ(parseBindAddress("[fe80::1%eth0]:8081")->host, "fe80::1%eth0");
}

TEST(BindAddress, ReadsAHostName) {
  auto parsed = parseBindAddress("localhost:65535");
  ASSERT_TRUE(parsed) << parsed.status().toString();
  EXPECT_EQ(parsed->host, "localhost");
  EXPECT_EQ(parsed->port, 65535);
}

TEST(BindAddress, ZeroMeansDisabled) {
  EXPECT_TRUE(bindAddressDisabled("0"));
  EXPECT_FALSE(bindAddressDisabled(":0"));
  EXPECT_FALSE(bindAddressDisabled(""));
  EXPECT_THAT(refusal("0"), HasSubstr("turns the endpoint off"));
}

TEST(BindAddress, RefusesBadAddressesNamingThem) {
  EXPECT_THAT(refusal(":99999"), StartsWith("bind address \":99999\": the port is not a number"));
  EXPECT_THAT(refusal("host:"), StartsWith("bind address \"host:\": missing port"));
  EXPECT_THAT(refusal("abc"), StartsWith("bind address \"abc\": missing ':PORT'"));
  EXPECT_THAT(refusal(""), StartsWith("bind address \"\": missing ':PORT'"));
  EXPECT_THAT(refusal(":http"), StartsWith("bind address \":http\": the port is not a number"));
  EXPECT_THAT(refusal(":-1"), HasSubstr("the port is not a number"));
  EXPECT_THAT(refusal(":0000080"), HasSubstr("the port is not a number"));
  EXPECT_THAT(refusal("::1:8080"), HasSubstr("too many colons"));
  EXPECT_THAT(refusal("[::1]8080"), HasSubstr("missing ':PORT' after ']'"));
  EXPECT_THAT(refusal("[::1:8080"), HasSubstr("missing ']'"));
  EXPECT_THAT(refusal("[nope]:80"), HasSubstr("not an IPv6 address"));
  EXPECT_THAT(refusal("a b:80"), HasSubstr("not a name or an address"));
  EXPECT_THAT(refusal("x\n:80"), StartsWith("bind address \"x\\n:80\""));  // escaped
  EXPECT_THAT(refusal(std::string(300, 'a') + ":80"), HasSubstr("too long"));
}

}  // namespace
}  // namespace wop::server
