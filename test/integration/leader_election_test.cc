// Leader election between two electors (two clients, as two hosts would have) on one Lease of
// the test control plane's real API server, with short durations so the hand-overs are quick.
#include "server/leader_election.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <mutex>
#include <thread>

#include "server/lease_lock.h"
#include "support/kube_test_env.h"

namespace wop::testing {
namespace {

using server::LeaderElector;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kLease{2'000};
constexpr milliseconds kRenew{1'500};
constexpr milliseconds kRetry{300};

// One candidate: its own client and timers, and what its callbacks saw.
struct Candidate {
  Candidate(const std::string& ns, const std::string& lease, const std::string& id,
            bool releaseOnStop = true)
      : client(adminClient()), timers() {
    server::LeaderElectionConfig config{.leaseNamespace = ns,
                                        .leaseName = lease,
                                        .identity = id,
                                        .leaseDuration = kLease,
                                        .renewDeadline = kRenew,
                                        .retryPeriod = kRetry,
                                        .releaseOnStop = releaseOnStop};
    server::LeaderCallbacks callbacks{.onNewLeader = [this](const std::string& leader) {
      std::lock_guard lock(mutex);
      leadersSeen.push_back(leader);
    }};
    elector = std::make_unique<LeaderElector>(*client, timers, config, callbacks);
  }

  std::vector<std::string> seen() {
    std::lock_guard lock(mutex);
    return leadersSeen;
  }

  std::unique_ptr<kube::Client> client;
  common::ThreadTimers timers;
  std::mutex mutex;
  std::vector<std::string> leadersSeen;
  std::unique_ptr<LeaderElector> elector;  // last: gone before what it uses
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = adminClient();
    ASSERT_NE(admin_, nullptr);
    ensureNamespace(*admin_, ns_);
  }

  std::string holder(const std::string& lease) {
    auto got = admin_->get(server::leaseResource(), ns_, lease);
    if (!got) return "<" + got.error().toString() + ">";
    auto parsed = server::parseLease(*got);
    return parsed ? parsed->record.holderIdentity : "<" + parsed.status().message() + ">";
  }

  std::unique_ptr<kube::Client> admin_;
  const std::string ns_ = "leader-election-test";
};

TEST_F(LeaderElectionTest, ExactlyOneLeadsAndStopHandsOverAtOnce) {
  const std::string lease = "handover";
  removeIfPresent(*admin_, server::leaseResource(), ns_, lease);
  Candidate a(ns_, lease, "a"), b(ns_, lease, "b");
  ASSERT_TRUE(a.elector->start().isOk());
  ASSERT_TRUE(b.elector->start().isOk());
  ASSERT_TRUE(eventually([&] { return a.elector->isLeader() || b.elector->isLeader(); },
                         std::chrono::seconds(10)));
  ASSERT_TRUE(eventually([&] { return a.elector->observed() && b.elector->observed(); }));

  // For several renewals, never two leaders, never none.
  const auto until = Clock::now() + 3 * kLease;
  while (Clock::now() < until) {
    ASSERT_NE(a.elector->isLeader(), b.elector->isLeader());
    std::this_thread::sleep_for(milliseconds(10));
  }
  Candidate& leader = a.elector->isLeader() ? a : b;
  Candidate& follower = a.elector->isLeader() ? b : a;
  EXPECT_EQ(holder(lease), leader.elector->identity());
  EXPECT_EQ(follower.elector->leader(), leader.elector->identity());

  const auto stopped = Clock::now();
  leader.elector->stop();
  ASSERT_TRUE(eventually([&] { return follower.elector->isLeader(); }, std::chrono::seconds(5)));
  const auto handover = Clock::now() - stopped;
  std::printf("hand-over after stop(): %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<milliseconds>(handover).count()));
  EXPECT_LT(handover, milliseconds(1'000))
      << std::chrono::duration_cast<milliseconds>(handover).count() << " ms";
  EXPECT_FALSE(leader.elector->isLeader());
  EXPECT_EQ(holder(lease), follower.elector->identity());
  // The follower saw the leader, the release, and itself.
  EXPECT_THAT(follower.seen(),
              ::testing::ElementsAre(leader.elector->identity(), "", follower.elector->identity()));
}

TEST_F(LeaderElectionTest, ALeaderThatStopsRenewingIsReplacedAfterTheLeaseDuration) {
  const std::string lease = "crash";
  removeIfPresent(*admin_, server::leaseResource(), ns_, lease);
  auto a = std::make_unique<Candidate>(ns_, lease, "a", /*releaseOnStop=*/false);
  ASSERT_TRUE(a->elector->start().isOk());
  ASSERT_TRUE(eventually([&] { return a->elector->isLeader(); }, std::chrono::seconds(10)));
  Candidate b(ns_, lease, "b");
  ASSERT_TRUE(b.elector->start().isOk());
  ASSERT_TRUE(eventually([&] { return b.elector->leader() == "a"; }));
  std::this_thread::sleep_for(kLease);  // a keeps it while it renews
  ASSERT_FALSE(b.elector->isLeader());

  const auto crashed = Clock::now();
  a.reset();  // no release: the lease must expire
  ASSERT_TRUE(eventually([&] { return b.elector->isLeader(); }, std::chrono::seconds(10)));
  const auto takeover = Clock::now() - crashed;
  // a last renewed at most one retry period before it stopped; b then waits a whole lease
  // from when it saw that renewal, plus up to one jittered retry (2.2 * retry) on each side.
  const auto ms = std::chrono::duration_cast<milliseconds>(takeover).count();
  std::printf("take-over after a leader stopped renewing: %lld ms (lease %lld ms)\n",
              static_cast<long long>(ms), static_cast<long long>(kLease.count()));
  EXPECT_GE(takeover, kLease - kRetry) << ms << " ms";
  EXPECT_LE(takeover, kLease + 2 * kRetry + milliseconds(1'000)) << ms << " ms";
  EXPECT_EQ(holder(lease), "b");
}

}  // namespace
}  // namespace wop::testing
