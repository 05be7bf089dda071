#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/leadership.h"

namespace wop::server {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

common::Result<ParsedFlags> parse(std::vector<std::string> args) {
  FlagSet flags("wasm-operator run", "test");
  flags.add(leaderElectionFlags());
  return flags.parse(args);
}

kube::ClientConfig inNamespace(const std::string& ns) {
  kube::ClientConfig config;
  config.defaultNamespace = ns;
  return config;
}

TEST(LeadershipFlagsTest, OffByDefaultWithOneShard) {
  auto flags = parse({});
  ASSERT_TRUE(flags.isOk());
  auto election = leaderElectionConfig(*flags, inNamespace("ns"));
  ASSERT_TRUE(election.isOk());
  EXPECT_FALSE(election->has_value());
  EXPECT_EQ(*shardCount(*flags), 1);
}

TEST(LeadershipFlagsTest, ClientGoDefaultsAndTheContextNamespace) {
  auto flags = parse({"--leader-elect", "on"});
  ASSERT_TRUE(flags.isOk());
  auto election = leaderElectionConfig(*flags, inNamespace("ops"));
  ASSERT_TRUE(election.isOk() && election->has_value());
  const LeaderElectionConfig& config = **election;
  EXPECT_EQ(config.leaseName, "wasm-operator-leader");
  EXPECT_EQ(config.leaseNamespace, "ops");
  EXPECT_EQ(config.leaseDuration, milliseconds(15'000));
  EXPECT_EQ(config.renewDeadline, milliseconds(10'000));
  EXPECT_EQ(config.retryPeriod, milliseconds(2'000));
}

TEST(LeadershipFlagsTest, RefusesDurationsClientGoRefuses) {
  auto flags = parse({"--leader-elect", "on", "--leader-elect-lease-duration", "5s",
                      "--leader-elect-renew-deadline", "6s"});
  ASSERT_TRUE(flags.isOk());
  auto election = leaderElectionConfig(*flags, inNamespace("ns"));
  ASSERT_FALSE(election.isOk());
  EXPECT_THAT(election.status().message(), HasSubstr("greater than renewDeadline"));
}

TEST(LeadershipFlagsTest, ShardsNeedLeaderElection) {
  auto alone = parse({"--shards", "3"});
  ASSERT_TRUE(alone.isOk());
  auto refused = shardCount(*alone);
  ASSERT_FALSE(refused.isOk());
  EXPECT_THAT(refused.status().message(), HasSubstr("--shards 3 needs --leader-elect"));

  auto with = parse({"--leader-elect", "on", "--shards", "3"});
  ASSERT_TRUE(with.isOk());
  EXPECT_EQ(*shardCount(*with), 3);
}

TEST(LeadershipFlagsTest, ShardsAreBounded) {
  EXPECT_FALSE(parse({"--leader-elect", "on", "--shards", "0"}).isOk());
  EXPECT_FALSE(parse({"--leader-elect", "on", "--shards", "257"}).isOk());
}

}  // namespace
}  // namespace wop::server
