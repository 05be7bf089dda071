#include "outbound/address_policy.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace wop::outbound {
namespace {

std::optional<std::string> refusalOf(const AddressPolicy& policy, const char* address,
                                     uint16_t port) {
  sockaddr_in in{};
  sockaddr_in6 in6{};
  if (inet_pton(AF_INET, address, &in.sin_addr) == 1) {
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    return policy.refusal(reinterpret_cast<const sockaddr*>(&in), sizeof in);
  }
  EXPECT_EQ(inet_pton(AF_INET6, address, &in6.sin6_addr), 1) << address;
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(port);
  return policy.refusal(reinterpret_cast<const sockaddr*>(&in6), sizeof in6);
}

TEST(AddressPolicyTest, LinkLocalMetadataAndUnroutableAddressesAreRefused) {
  const AddressPolicy policy;
  for (const char* address : {"169.254.169.254", "169.254.0.1", "100.100.100.200", "0.0.0.0",
                              "0.1.2.3", "224.0.0.1", "255.255.255.255", "240.0.0.1", "fe80::1",
                              "febf::1", "::", "ff02::1", "fd00:ec2::254", "::ffff:169.254.169.254",
                              "::169.254.169.254", "64:ff9b::169.254.169.254", "::ffff:0.0.0.0"}) {
    EXPECT_TRUE(refusalOf(policy, address, 443)) << address;
  }
}

TEST(AddressPolicyTest, LoopbackPrivateAndPublicAddressesAreNotRefusedByThemselves) {
  const AddressPolicy policy;
  for (const char* address : {"127.0.0.1", "10.0.0.1", "192.168.1.1", "8.8.8.8", "::1",
                              "2001:db8::1", "fd00::1", "::ffff:10.0.0.1", "fec0::1"}) {
    EXPECT_FALSE(refusalOf(policy, address, 443)) << address;
  }
}

TEST(AddressPolicyTest, TheApiServerIsRefusedByNameAndByEveryFormOfItsAddressAtItsPort) {
  const auto policy = AddressPolicy::forApiServer("https://127.0.0.1:6443");
  EXPECT_TRUE(refusalOf(policy, "127.0.0.1", 6443));
  EXPECT_TRUE(refusalOf(policy, "::ffff:127.0.0.1", 6443));
  EXPECT_FALSE(refusalOf(policy, "127.0.0.1", 8443));  // another service on the same machine
  EXPECT_TRUE(policy.refusal(*parseOutboundUrl("https://127.0.0.1:6443/api")));
  EXPECT_FALSE(policy.refusal(*parseOutboundUrl("https://127.0.0.1:8443/")));

  const auto named = AddressPolicy::forApiServer("https://localhost:6443");
  EXPECT_TRUE(named.refusal(*parseOutboundUrl("https://LOCALHOST:6443/")));
  EXPECT_TRUE(refusalOf(named, "127.0.0.1", 6443));  // what the name resolves to
}

TEST(AddressPolicyTest, AnAddressLiteralInTheUrlIsCheckedBeforeAnyConnection) {
  const AddressPolicy policy;
  EXPECT_TRUE(policy.refusal(*parseOutboundUrl("https://169.254.169.254/latest/meta-data")));
  EXPECT_TRUE(policy.refusal(*parseOutboundUrl("https://[::ffff:a9fe:a9fe]/")));
  EXPECT_TRUE(policy.refusal(*parseOutboundUrl("https://[fe80::1]/")));
  EXPECT_FALSE(policy.refusal(*parseOutboundUrl("https://metadata.example.com/")));
}

TEST(AddressPolicyTest, ASocketAddressOfAnotherFamilyIsRefused) {
  const AddressPolicy policy;
  sockaddr unix{};
  unix.sa_family = AF_UNIX;
  EXPECT_TRUE(policy.refusal(&unix, sizeof unix));
  sockaddr_in shortened{};
  shortened.sin_family = AF_INET;
  EXPECT_TRUE(policy.refusal(reinterpret_cast<const sockaddr*>(&shortened), 4));
}

}  // namespace
}  // namespace wop::outbound
