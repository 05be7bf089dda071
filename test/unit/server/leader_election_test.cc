#include "server/leader_election.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_lease_server.h"
#include "server/lease_lock.h"

namespace wop::server {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

constexpr const char* kLease = "host-leader";

class LeaderElectionTest : public ::testing::Test {
 protected:
  LeaderElectionTest() {
    kube::ClientConfig config;
    config.server = "https://127.0.0.1:6443";
    config.bearerToken = "token";
    auto server = std::make_unique<FakeLeaseServer>(clock_);
    server_ = server.get();
    // No retries inside the client: each attempt of the elector is one request.
    client_ = std::make_unique<kube::Client>(
        config, std::move(server), kube::ClientOptions{.qps = 0, .maxRetries = 0}, clock_);
  }

  // An elector with client-go's defaults (15 s, 10 s, 2 s) whose callbacks note what happened
  // in events_ as "<id> started", "<id> stopped", "<id> sees <leader>".
  std::unique_ptr<LeaderElector> elector(const std::string& id, bool releaseOnStop = true,
                                         std::function<bool(bool)> mayAcquire = {}) {
    LeaderElectionConfig config{.leaseNamespace = "ns",
                                .leaseName = kLease,
                                .identity = id,
                                .releaseOnStop = releaseOnStop,
                                .mayAcquire = std::move(mayAcquire)};
    LeaderCallbacks callbacks{
        .onStartedLeading = [this, id] { events_.push_back(id + " started"); },
        .onStoppedLeading = [this, id] { events_.push_back(id + " stopped"); },
        .onNewLeader =
            [this, id](const std::string& leader) { events_.push_back(id + " sees " + leader); }};
    return std::make_unique<LeaderElector>(
        *client_, timers_, config, callbacks,
        [this](std::string_view line) { logs_.emplace_back(line); });
  }

  std::unique_ptr<LeaderElector> started(const std::string& id, bool releaseOnStop = true) {
    auto e = elector(id, releaseOnStop);
    EXPECT_TRUE(e->start().isOk());
    timers_.runDue();
    return e;
  }

  // Another process renews its hold now.
  void heldBy(const std::string& holder, int transitions = 0) {
    server_->writeSpec(kLease, {{"holderIdentity", holder},
                                {"leaseDurationSeconds", 15},
                                {"acquireTime", "2026-12-03T01:00:00.000000Z"},
                                {"renewTime", formatMicroTime(clock_.wallNow())},
                                {"leaseTransitions", transitions}});
  }

  Json spec() { return server_->spec(kLease).value_or(Json()); }

  common::FakeClock clock_;
  common::ManualTimers timers_{clock_};
  FakeLeaseServer* server_ = nullptr;
  std::unique_ptr<kube::Client> client_;
  std::vector<std::string> events_;
  std::vector<std::string> logs_;
};

TEST_F(LeaderElectionTest, CreatesAnAbsentLeaseAndLeads) {
  auto e = started("me");
  EXPECT_TRUE(e->isLeader());
  EXPECT_TRUE(e->observed());
  EXPECT_EQ(e->leader(), "me");
  EXPECT_THAT(events_, ElementsAre("me sees me", "me started"));
  ASSERT_EQ(server_->sent.size(), 2u);
  EXPECT_EQ(server_->sent[0].method, "GET");
  EXPECT_EQ(server_->sent[1].method, "POST");
  EXPECT_EQ(server_->sent[1].path, "/apis/coordination.k8s.io/v1/namespaces/ns/leases");
  EXPECT_EQ(spec()["holderIdentity"], "me");
  EXPECT_EQ(spec()["leaseDurationSeconds"], 15);
  EXPECT_EQ(spec()["leaseTransitions"], 0);
  EXPECT_EQ(spec()["acquireTime"], formatMicroTime(clock_.wallNow()));
  EXPECT_EQ(spec()["renewTime"], spec()["acquireTime"]);
}

TEST_F(LeaderElectionTest, TakesALeaseThatExpiredByItsOwnClock) {
  heldBy("other", 3);
  auto e = started("me");
  // The remote renewTime says nothing to us: the lease is fresh from when we first saw it.
  EXPECT_FALSE(e->isLeader());
  EXPECT_EQ(e->leader(), "other");
  EXPECT_TRUE(e->observed());
  timers_.advance(seconds(14));
  EXPECT_FALSE(e->isLeader());
  EXPECT_EQ(server_->count("PUT"), 0u);

  timers_.advance(seconds(6));  // 15 s and at most one jittered retry (< 2.2 * 2 s) later
  EXPECT_TRUE(e->isLeader());
  EXPECT_EQ(spec()["holderIdentity"], "me");
  EXPECT_EQ(spec()["leaseTransitions"], 4);
  EXPECT_NE(spec()["acquireTime"], "2026-12-03T01:00:00.000000Z");
  EXPECT_THAT(events_, ElementsAre("me sees other", "me sees me", "me started"));
}

TEST_F(LeaderElectionTest, AFollowerTriesAtTheExpiryItObservedNotAtItsNextRetry) {
  heldBy("other");
  auto e = started("me");
  // Seen at 0 s: expired by our clock at 15 s (+10 ms); the jittered retries alone could
  // land as late as 15 + 4.4 s.
  timers_.advance(milliseconds(15'000));
  EXPECT_FALSE(e->isLeader());
  timers_.advance(milliseconds(20));
  EXPECT_TRUE(e->isLeader());
}

TEST_F(LeaderElectionTest, DoesNotTakeALeaseItsHolderKeepsRenewing) {
  heldBy("other");
  auto e = started("me");
  for (int i = 0; i < 12; ++i) {
    timers_.advance(seconds(5));
    heldBy("other");  // renewed: the record changed, so our clock starts over
  }
  EXPECT_FALSE(e->isLeader());
  EXPECT_EQ(e->leader(), "other");
  EXPECT_EQ(server_->count("PUT"), 0u);
  EXPECT_THAT(events_, ElementsAre("me sees other"));  // once, not on every renewal
}

TEST_F(LeaderElectionTest, RenewsEveryRetryPeriodKeepingItsAcquireTime) {
  auto e = started("me");
  const Json acquired = spec()["acquireTime"];
  timers_.advance(seconds(2));
  EXPECT_EQ(server_->count("PUT"), 1u);
  EXPECT_EQ(spec()["renewTime"], formatMicroTime(clock_.wallNow()));
  timers_.advance(seconds(10));
  EXPECT_EQ(server_->count("PUT"), 6u);
  EXPECT_EQ(spec()["acquireTime"], acquired);
  EXPECT_EQ(spec()["leaseTransitions"], 0);
  EXPECT_TRUE(e->isLeader());
  EXPECT_THAT(events_, ElementsAre("me sees me", "me started"));
}

TEST_F(LeaderElectionTest, StopsLeadingWhenItCannotRenewForTheRenewDeadline) {
  auto e = started("me");
  server_->unavailable = true;
  timers_.advance(milliseconds(9'900));
  EXPECT_TRUE(e->isLeader());
  timers_.advance(milliseconds(100));
  EXPECT_FALSE(e->isLeader());
  EXPECT_FALSE(e->running());
  EXPECT_THAT(events_, ElementsAre("me sees me", "me started", "me stopped"));
  EXPECT_THAT(logs_.back(), HasSubstr("could not renew within the renew deadline"));

  // It never tries again on its own, even once the server is back.
  server_->unavailable = false;
  const size_t sent = server_->sent.size();
  timers_.advance(seconds(60));
  EXPECT_EQ(server_->sent.size(), sent);
  EXPECT_FALSE(e->isLeader());
}

TEST_F(LeaderElectionTest, StopsLeadingAtOnceWhenAnotherHolderTookTheLease) {
  auto e = started("me");
  heldBy("thief", 1);
  timers_.advance(seconds(2));
  EXPECT_FALSE(e->isLeader());
  EXPECT_THAT(events_, ElementsAre("me sees me", "me started", "me sees thief", "me stopped"));
  EXPECT_THAT(logs_.back(), HasSubstr("held by thief"));
}

TEST_F(LeaderElectionTest, AConflictOnTheWriteMeansAnotherCandidateWon) {
  server_->writeSpec(kLease, {{"holderIdentity", ""}, {"leaseDurationSeconds", 1}});
  server_->loseNextWriteTo("rival");
  auto e = started("me");
  EXPECT_FALSE(e->isLeader());
  EXPECT_THAT(logs_.back(), HasSubstr("another candidate wrote lease ns/host-leader first"));
  timers_.advance(seconds(5));
  EXPECT_FALSE(e->isLeader());
  EXPECT_EQ(e->leader(), "rival");
  EXPECT_EQ(spec()["holderIdentity"], "rival");
}

TEST_F(LeaderElectionTest, LosingTheCreateRaceIsNotLeading) {
  server_->loseNextWriteTo("rival");
  auto e = started("me");
  EXPECT_FALSE(e->isLeader());
  EXPECT_THAT(logs_.back(), HasSubstr("AlreadyExists"));
  EXPECT_TRUE(e->running());
}

TEST_F(LeaderElectionTest, StopReleasesTheLeaseWithAnEmptyHolder) {
  auto e = started("me");
  timers_.advance(seconds(2));
  e->stop();
  EXPECT_FALSE(e->isLeader());
  EXPECT_FALSE(e->running());
  EXPECT_EQ(spec()["holderIdentity"], "");
  EXPECT_EQ(spec()["leaseDurationSeconds"], 1);
  EXPECT_EQ(spec()["leaseTransitions"], 0);
  EXPECT_THAT(events_, ElementsAre("me sees me", "me started", "me sees ", "me stopped"));
  const size_t sent = server_->sent.size();
  e->stop();  // idempotent
  timers_.advance(seconds(10));
  EXPECT_EQ(server_->sent.size(), sent);
}

TEST_F(LeaderElectionTest, StopWithoutReleaseLeavesTheLeaseToExpire) {
  auto e = started("me", /*releaseOnStop=*/false);
  e->stop();
  EXPECT_FALSE(e->isLeader());
  EXPECT_EQ(spec()["holderIdentity"], "me");
  EXPECT_THAT(events_, ElementsAre("me sees me", "me started", "me stopped"));
}

TEST_F(LeaderElectionTest, AFollowerTakesAReleasedLeaseAtItsNextRetry) {
  auto a = started("a");
  auto b = started("b");
  EXPECT_TRUE(a->isLeader());
  EXPECT_FALSE(b->isLeader());
  a->stop();
  timers_.advance(milliseconds(4'400));  // one jittered retry: < 2.2 * 2 s
  EXPECT_TRUE(b->isLeader());
  EXPECT_EQ(spec()["holderIdentity"], "b");
  EXPECT_EQ(spec()["leaseTransitions"], 1);
  EXPECT_THAT(events_, ElementsAre("a sees a", "a started", "b sees a", "a sees ", "a stopped",
                                   "b sees ", "b sees b", "b started"));
}

TEST_F(LeaderElectionTest, RetryNowTakesAReleasedLeaseWithoutWaitingForTheRetryPeriod) {
  auto a = started("a");
  auto b = started("b");
  a->stop();
  b->retryNow();  // what a watch of the Lease does when it sees the release
  timers_.advance(milliseconds(1));
  EXPECT_TRUE(b->isLeader());
  // One loop only: from now on one renewal (a GET and a PUT) per retry period.
  const size_t gets = server_->count("GET");
  b->retryNow();  // leading: nothing
  timers_.advance(milliseconds(10'000));
  EXPECT_EQ(server_->count("GET") - gets, 5u);
}

TEST_F(LeaderElectionTest, MayAcquireDeclinesAnAbsentLeaseUntilItAgrees) {
  bool agree = false;
  std::vector<bool> asked;
  auto e = elector("me", true, [&](bool expired) {
    asked.push_back(expired);
    return agree;
  });
  ASSERT_TRUE(e->start().isOk());
  timers_.runDue();
  EXPECT_FALSE(e->isLeader());
  EXPECT_EQ(server_->count("POST"), 0u);
  agree = true;
  timers_.advance(milliseconds(4'400));  // the next jittered retry
  EXPECT_TRUE(e->isLeader());
  EXPECT_THAT(asked, ElementsAre(false, false));  // absent, not expired
}

TEST_F(LeaderElectionTest, MayAcquireIsToldAnExpiredLeaseFromAReleasedOne) {
  std::vector<bool> asked;
  auto gate = [&](bool expired) {
    asked.push_back(expired);
    return false;
  };
  heldBy("other");
  auto e = elector("me", true, gate);
  ASSERT_TRUE(e->start().isOk());
  timers_.advance(milliseconds(15'020));  // expired by our clock: asked, declined
  ASSERT_THAT(asked, ElementsAre(true));
  // Declined after the expiry: back to the jittered retry, not a read at once in a loop.
  const size_t gets = server_->count("GET");
  timers_.advance(milliseconds(4'400));
  EXPECT_LE(server_->count("GET") - gets, 2u);
  EXPECT_EQ(server_->count("PUT"), 0u);
  heldBy("");  // released
  asked.clear();
  timers_.advance(milliseconds(4'400));
  EXPECT_THAT(asked, ::testing::Contains(false));
  EXPECT_FALSE(e->isLeader());
}

TEST_F(LeaderElectionTest, MayAcquireIsNotAskedToRenew) {
  int asked = 0;
  auto e = elector("me", true, [&](bool) { return ++asked == 1; });
  ASSERT_TRUE(e->start().isOk());
  timers_.runDue();
  ASSERT_TRUE(e->isLeader());
  timers_.advance(seconds(20));
  EXPECT_TRUE(e->isLeader());
  EXPECT_EQ(asked, 1);
}

TEST_F(LeaderElectionTest, ALeaseWithoutSpecIsFreeAsForClientGo) {
  server_->writeSpec(kLease, nullptr);
  auto e = started("me");
  EXPECT_TRUE(e->isLeader());
  EXPECT_EQ(spec()["leaseTransitions"], 1);
}

struct Malformed {
  const char* name;
  std::string body;
  const char* says;
};

class MalformedLeaseTest : public LeaderElectionTest,
                           public ::testing::WithParamInterface<Malformed> {};

TEST_P(MalformedLeaseTest, IsLoggedAndNotTakenUntilFixed) {
  heldBy("other");
  server_->serveRaw(kLease, GetParam().body);
  auto e = started("me");
  timers_.advance(seconds(30));
  EXPECT_FALSE(e->isLeader());
  EXPECT_FALSE(e->observed());
  EXPECT_TRUE(e->running());
  EXPECT_EQ(server_->count("PUT") + server_->count("POST"), 0u);
  ASSERT_FALSE(logs_.empty());
  EXPECT_THAT(logs_.back(), HasSubstr("lease ns/host-leader cannot be used: malformed Lease"));
  EXPECT_THAT(logs_.back(), HasSubstr(GetParam().says));

  server_->writeSpec(kLease, {{"holderIdentity", ""}});  // someone repaired it
  timers_.advance(milliseconds(4'400));
  EXPECT_TRUE(e->isLeader());
}

INSTANTIATE_TEST_SUITE_P(
    Leases, MalformedLeaseTest,
    ::testing::Values(
        Malformed{"NotJson", "{\"metadata\":", "not JSON"},
        Malformed{"NotAnObject", "[1,2]", "not a JSON object"},
        Malformed{"NoResourceVersion", R"({"metadata":{"name":"x"},"spec":{}})", "resourceVersion"},
        Malformed{"SpecNotAnObject", R"({"metadata":{"resourceVersion":"1"},"spec":"x"})",
                  "spec is not an object"},
        Malformed{"HolderNotAString",
                  R"({"metadata":{"resourceVersion":"1"},"spec":{"holderIdentity":7}})",
                  "holderIdentity"},
        Malformed{"BadRenewTime",
                  R"({"metadata":{"resourceVersion":"1"},"spec":{"renewTime":"yesterday"}})",
                  "renewTime is not an RFC 3339 time"},
        Malformed{"NegativeDuration",
                  R"({"metadata":{"resourceVersion":"1"},"spec":{"leaseDurationSeconds":-5}})",
                  "negative"},
        Malformed{"FractionalTransitions",
                  R"({"metadata":{"resourceVersion":"1"},"spec":{"leaseTransitions":1.5}})",
                  "not an integer"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(LeaderElectionTest, CallbacksMayStopTheElector) {
  LeaderElector* self = nullptr;
  LeaderElectionConfig config{.leaseNamespace = "ns", .leaseName = kLease, .identity = "me"};
  LeaderElector e(*client_, timers_, config,
                  {.onStartedLeading = [&] { self->stop(); },
                   .onStoppedLeading = [&] { events_.push_back("stopped"); }},
                  [](std::string_view) {});
  self = &e;
  ASSERT_TRUE(e.start().isOk());
  timers_.runDue();
  EXPECT_FALSE(e.isLeader());
  EXPECT_FALSE(e.running());
  EXPECT_EQ(spec()["holderIdentity"], "");  // released once the attempt was over
  EXPECT_THAT(events_, ElementsAre("stopped"));
}

TEST_F(LeaderElectionTest, RefusesAnInvalidConfig) {
  auto refused = [&](LeaderElectionConfig config) {
    LeaderElector e(*client_, timers_, config, {});
    return !e.start().isOk();
  };
  LeaderElectionConfig good{.leaseNamespace = "ns", .leaseName = kLease};
  EXPECT_TRUE(validateLeaderElectionConfig(good).isOk());
  auto c = good;
  c.leaseName = "";
  EXPECT_TRUE(refused(c));
  c = good;
  c.renewDeadline = c.leaseDuration;
  EXPECT_TRUE(refused(c));
  c = good;
  c.retryPeriod = milliseconds(9'000);  // 1.2 * 9 s > 10 s
  EXPECT_TRUE(refused(c));
  c = good;
  c.leaseDuration = milliseconds(900);
  c.renewDeadline = milliseconds(500);
  c.retryPeriod = milliseconds(100);
  EXPECT_TRUE(refused(c));
}

TEST_F(LeaderElectionTest, StartsOnceAndMakesADefaultIdentity) {
  LeaderElector e(*client_, timers_, {.leaseNamespace = "ns", .leaseName = kLease}, {},
                  [](std::string_view) {});
  const std::string& id = e.identity();
  const size_t underscore = id.rfind('_');
  ASSERT_NE(underscore, std::string::npos);
  EXPECT_GT(underscore, 0u);  // the host name
  EXPECT_EQ(id.size() - underscore - 1, 16u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef", underscore + 1), std::string::npos);
  EXPECT_NE(defaultLeaderIdentity(), defaultLeaderIdentity());
  ASSERT_TRUE(e.start().isOk());
  EXPECT_FALSE(e.start().isOk());
}

}  // namespace
}  // namespace wop::server
