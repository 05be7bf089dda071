#include "server/shard_members.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "runtime/shards.h"

namespace wop::server {
namespace {

using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ShardOfTest, IsStableAndSpreadsNames) {
  // Fixed values: replicas of any build must agree, so the hash may never change.
  EXPECT_EQ(runtime::shardOf("ring-0", 1), 0);
  EXPECT_EQ(runtime::shardOf("", 3), static_cast<int>(14695981039346656037ull % 3));
  EXPECT_EQ(runtime::shardOf("a", 1000), static_cast<int>(0xaf63dc4c8601ec8cull % 1000));
  std::map<int, int> perShard;
  for (int i = 0; i < 3000; ++i) ++perShard[runtime::shardOf("ring-" + std::to_string(i), 3)];
  ASSERT_EQ(perShard.size(), 3u);
  for (const auto& [shard, count] : perShard) {
    EXPECT_GT(count, 900) << shard;
    EXPECT_LT(count, 1100) << shard;
  }
}

TEST(ShardLeaseNameTest, NamesAndReadsShardLeases) {
  EXPECT_EQ(shardLeaseName("wop", 2), "wop-shard-2");
  EXPECT_EQ(shardOfLeaseName("wop", "wop-shard-2", 3), 2);
  EXPECT_EQ(shardOfLeaseName("wop", "wop-shard-3", 3), std::nullopt);  // beyond K
  EXPECT_EQ(shardOfLeaseName("wop", "wop-shard-", 3), std::nullopt);
  EXPECT_EQ(shardOfLeaseName("wop", "wop-shard-01", 3), std::nullopt);
  EXPECT_EQ(shardOfLeaseName("wop", "wop-shard--1", 3), std::nullopt);
  EXPECT_EQ(shardOfLeaseName("wop", "wop-shard-1x", 3), std::nullopt);
  EXPECT_EQ(shardOfLeaseName("wop", "other-shard-1", 3), std::nullopt);
  EXPECT_EQ(shardOfLeaseName("wop", "wop-shard-99999999999999999999", 3), std::nullopt);
}

TEST(ShardLeaseNameTest, MemberNamesAreValidObjectNames) {
  EXPECT_EQ(memberLeaseName("wop", "Node-1_0123abcd"), "wop-member-node-1-0123abcd");
  EXPECT_TRUE(isMemberLeaseName("wop", "wop-member-node-1-0123abcd"));
  EXPECT_FALSE(isMemberLeaseName("wop", "wop-shard-1"));
  EXPECT_FALSE(isMemberLeaseName("wop", "wop-member-"));
  const std::string longName = memberLeaseName("wop", std::string(400, 'x') + "_");
  EXPECT_EQ(longName.size(), 253u);
  EXPECT_EQ(memberLeaseName("wop", "host_"), "wop-member-host");  // ends alphanumeric
}

TEST(FairShareTest, IsTheCeilingOfShardsPerReplica) {
  EXPECT_EQ(fairShare(3, 1), 3);
  EXPECT_EQ(fairShare(3, 2), 2);
  EXPECT_EQ(fairShare(3, 3), 1);
  EXPECT_EQ(fairShare(3, 5), 1);  // more replicas than shards: one each, some idle
  EXPECT_EQ(fairShare(8, 3), 3);
  EXPECT_EQ(fairShare(3, 0), 3);
}

class ShardMembersTest : public ::testing::Test {
 protected:
  common::TimePoint at(int s) { return common::TimePoint{} + seconds(1000 + s); }
  ShardMembers members_{"wop-member-me"};
};

TEST_F(ShardMembersTest, CountsItselfAndReplicasRenewingWithinTheirDuration) {
  EXPECT_EQ(members_.alive(at(0)), 1);
  members_.observe("wop-member-me", "1", "me", seconds(15), at(0));  // ourselves: not twice
  members_.observe("wop-member-b", "1", "b", seconds(15), at(0));
  members_.observe("wop-member-c", "5", "c", seconds(15), at(0));
  EXPECT_EQ(members_.alive(at(0)), 3);
  members_.observe("wop-member-b", "2", "b", seconds(15), at(10));  // renewed
  members_.observe("wop-member-c", "5", "c", seconds(15), at(10));  // the same version again
  EXPECT_EQ(members_.alive(at(14)), 3);
  EXPECT_EQ(members_.alive(at(16)), 2);  // c's clock started at 0: gone after 15 s
  EXPECT_EQ(members_.alive(at(26)), 1);
}

TEST_F(ShardMembersTest, AReleasedOrForgottenMemberIsNotAlive) {
  members_.observe("wop-member-b", "1", "b", seconds(15), at(0));
  members_.observe("wop-member-c", "1", "c", seconds(15), at(0));
  members_.observe("wop-member-b", "2", "", seconds(1), at(1));
  members_.forget("wop-member-c");
  EXPECT_EQ(members_.alive(at(2)), 1);
}

TEST_F(ShardMembersTest, StaleLeasesAreThoseOfReplicasGoneForLong) {
  members_.observe("wop-member-b", "1", "b", seconds(15), at(0));
  members_.observe("wop-member-c", "1", "", seconds(1), at(0));
  members_.observe("wop-member-d", "1", "d", seconds(15), at(0));
  members_.observe("wop-member-d", "2", "d", seconds(15), at(30));
  EXPECT_THAT(members_.stale(at(20), seconds(30)), IsEmpty());
  EXPECT_THAT(members_.stale(at(31), seconds(30)), ElementsAre("wop-member-c"));
  EXPECT_THAT(members_.stale(at(46), seconds(30)), ElementsAre("wop-member-b", "wop-member-c"));
}

}  // namespace
}  // namespace wop::server
