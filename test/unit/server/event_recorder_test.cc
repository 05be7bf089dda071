// The Event recorder on virtual time: ManualTimers, a FakeClock and a fake Events server.
#include "server/event_recorder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "fake_event_server.h"
#include "server/lease_lock.h"

namespace wop::server {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const ObjectReference kPod{"Pod", "v1", "ops", "host-0", "uid-1"};

EventOccurrence occurrence(std::string note, std::string budget = "",
                           ObjectReference regarding = kPod) {
  return {.fields = {.regarding = std::move(regarding),
                     .type = EventType::kWarning,
                     .reason = "Trapped",
                     .action = "Run",
                     .note = std::move(note)},
          .budget = std::move(budget)};
}

class EventRecorderTest : public ::testing::Test {
 protected:
  EventRecorderTest() {
    kube::ClientConfig config;
    config.server = "https://127.0.0.1:6443";
    config.bearerToken = "token";
    auto server = std::make_unique<FakeEventServer>(clock_);
    server_ = server.get();
    client_ = std::make_unique<kube::Client>(
        config, std::move(server), kube::ClientOptions{.qps = 0, .maxRetries = 0}, clock_);
    config_.reporter.instance = "node-a";
  }

  EventRecorder& recorder() {
    if (!recorder_) {
      recorder_ = std::make_unique<EventRecorder>(
          *client_, timers_, config_, [this](std::string_view line) { logs_.emplace_back(line); });
    }
    return *recorder_;
  }
  void record(const EventOccurrence& o) {
    recorder().record(o);
    timers_.runDue();  // the sends are posted to the timers' thread
  }
  const EventCounters& counters() { return recorder().counters(); }

  common::FakeClock clock_;
  common::ManualTimers timers_{clock_};
  FakeEventServer* server_ = nullptr;
  std::unique_ptr<kube::Client> client_;
  EventRecorderConfig config_;
  std::unique_ptr<EventRecorder> recorder_;
  std::vector<std::string> logs_;
};

TEST_F(EventRecorderTest, TheFirstOccurrenceCreatesAnEventWithEveryFieldTheApiRequires) {
  record(occurrence("Operator a failed: wasm trap: unreachable"));
  ASSERT_EQ(server_->sent.size(), 1u);
  const auto& sent = server_->sent[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.path, "/apis/events.k8s.io/v1/namespaces/ops/events");
  const auto& body = sent.body;
  EXPECT_EQ(body["apiVersion"], "events.k8s.io/v1");
  EXPECT_EQ(body["kind"], "Event");
  EXPECT_THAT(body["metadata"]["name"].get<std::string>(), StartsWith("host-0."));
  EXPECT_EQ(body["metadata"]["namespace"], "ops");
  EXPECT_EQ(body["eventTime"], formatMicroTime(clock_.wallNow()));
  EXPECT_EQ(body["reportingController"], "wasm-operator.dev/host");
  EXPECT_EQ(body["reportingInstance"], "node-a");
  EXPECT_EQ(body["type"], "Warning");
  EXPECT_EQ(body["reason"], "Trapped");
  EXPECT_EQ(body["action"], "Run");
  EXPECT_EQ(body["note"], "Operator a failed: wasm trap: unreachable");
  EXPECT_EQ(body["regarding"], (nlohmann::json{{"kind", "Pod"},
                                               {"apiVersion", "v1"},
                                               {"namespace", "ops"},
                                               {"name", "host-0"},
                                               {"uid", "uid-1"}}));
  EXPECT_FALSE(body.contains("series"));
  EXPECT_EQ(counters().created, 1u);
}

TEST_F(EventRecorderTest, RepeatsBecomeOneSeriesWrittenBackAtMostEveryThirtySeconds) {
  record(occurrence("same"));
  for (int i = 0; i < 10; ++i) {
    timers_.advance(seconds(2));
    record(occurrence("same"));
  }
  EXPECT_EQ(server_->sent.size(), 1u) << "no request per occurrence";
  EXPECT_EQ(counters().aggregated, 10u);

  timers_.advance(seconds(10));  // 30 s after the first
  ASSERT_EQ(server_->count("PATCH"), 1u);
  const auto& patch = server_->sent.back();
  EXPECT_THAT(patch.path, StartsWith("/apis/events.k8s.io/v1/namespaces/ops/events/host-0."));
  EXPECT_EQ(patch.body["series"]["count"], 11);
  EXPECT_EQ(patch.body.size(), 1u) << "a merge patch of the series alone";
  const std::string name = server_->sent[0].body["metadata"]["name"];
  EXPECT_EQ(server_->events[name]["series"]["count"], 11);

  for (int i = 0; i < 5; ++i) {
    timers_.advance(seconds(5));
    record(occurrence("same"));
  }
  EXPECT_EQ(server_->count("PATCH"), 1u);
  timers_.advance(seconds(5));  // the next flush
  EXPECT_EQ(server_->count("PATCH"), 2u);
  EXPECT_EQ(server_->events[name]["series"]["count"], 16);
  EXPECT_EQ(server_->events[name]["series"]["lastObservedTime"],
            formatMicroTime(clock_.wallNow() - seconds(5)));

  timers_.advance(minutes(2));  // nothing new: nothing written
  EXPECT_EQ(server_->count("PATCH"), 2u);
  EXPECT_EQ(server_->count("POST"), 1u);
}

TEST_F(EventRecorderTest, ADifferentNoteReasonTypeOrObjectIsAnotherEvent) {
  record(occurrence("one"));
  record(occurrence("two"));
  auto normal = occurrence("one");
  normal.fields.type = EventType::kNormal;
  record(normal);
  auto backoff = occurrence("one");
  backoff.fields.reason = "BackOff";
  record(backoff);
  record(occurrence("one", "", {"Pod", "v1", "ops", "host-1", ""}));
  EXPECT_EQ(server_->count("POST"), 5u);
  std::set<std::string> names;
  for (const auto& s : server_->sent) names.insert(s.body["metadata"]["name"].get<std::string>());
  EXPECT_EQ(names.size(), 5u) << "names are unique even within one nanosecond";
}

TEST_F(EventRecorderTest, AfterSixQuietMinutesTheSameOccurrenceIsANewEvent) {
  record(occurrence("same"));
  timers_.advance(minutes(5));
  record(occurrence("same"));
  EXPECT_EQ(server_->count("POST"), 1u) << "within the window: the series";
  timers_.advance(minutes(6));
  EXPECT_EQ(recorder().tracked(), 0u) << "forgotten once its window is over and written";
  record(occurrence("same"));
  EXPECT_EQ(server_->count("POST"), 2u);
}

TEST_F(EventRecorderTest, TheSpamFilterAllowsABurstOf25NewEventsPerBudgetThenOneEveryFiveMinutes) {
  for (int i = 0; i < 30; ++i) record(occurrence("note " + std::to_string(i), "operator/a"));
  EXPECT_EQ(server_->count("POST"), 25u);
  EXPECT_EQ(counters().droppedSpam, 5u);
  record(occurrence("other budget", "operator/b"));
  EXPECT_EQ(server_->count("POST"), 26u) << "each budget is its own";
  timers_.advance(minutes(5));
  record(occurrence("late 1", "operator/a"));
  record(occurrence("late 2", "operator/a"));
  EXPECT_EQ(server_->count("POST"), 27u);
  EXPECT_EQ(counters().droppedSpam, 6u);
}

TEST_F(EventRecorderTest, WithoutABudgetTheRegardingObjectIsTheBudget) {
  for (int i = 0; i < 26; ++i) record(occurrence("note " + std::to_string(i)));
  record(occurrence("another object", "", {"Pod", "v1", "ops", "host-1", ""}));
  EXPECT_EQ(server_->count("POST"), 26u);
  EXPECT_EQ(counters().droppedSpam, 1u);
}

TEST_F(EventRecorderTest, OccurrencesFoldedIntoASeriesTakeNoToken) {
  for (int i = 0; i < 100; ++i) record(occurrence("same", "operator/a"));
  EXPECT_EQ(counters().droppedSpam, 0u);
  timers_.advance(seconds(30));
  EXPECT_EQ(server_->sent.size(), 2u);
  EXPECT_EQ(server_->sent.back().body["series"]["count"], 100);
}

TEST_F(EventRecorderTest, AClusterScopedObjectsEventsGoToTheDefaultNamespace) {
  record(occurrence("node", "", {"Node", "v1", "", "node-1", ""}));
  ASSERT_EQ(server_->sent.size(), 1u);
  EXPECT_EQ(server_->sent[0].path, "/apis/events.k8s.io/v1/namespaces/default/events");
  EXPECT_EQ(server_->sent[0].body["metadata"]["namespace"], "default");
  EXPECT_FALSE(server_->sent[0].body["regarding"].contains("namespace"));
}

TEST_F(EventRecorderTest, WritesInFlightAndQueuedAreBoundedAndTheRestIsDroppedNotWaitedFor) {
  config_.maxInFlight = 2;
  config_.maxQueued = 3;
  server_->hold = true;
  for (int i = 0; i < 10; ++i) {
    recorder().record(occurrence("n" + std::to_string(i), "b" + std::to_string(i)));
  }
  EXPECT_EQ(counters().droppedQueue, 7u) << "record() never waits for room";
  timers_.runDue();
  EXPECT_EQ(server_->sent.size(), 2u);
  recorder().record(occurrence("n10", "b10"));
  recorder().record(occurrence("n11", "b11"));
  recorder().record(occurrence("n12", "b12"));
  EXPECT_EQ(counters().droppedQueue, 8u);
  server_->answerHeld();
  timers_.runDue();
  EXPECT_EQ(server_->sent.size(), 4u);
  server_->answerHeld();
  timers_.runDue();
  server_->answerHeld();
  EXPECT_EQ(server_->count("POST"), 5u);
  EXPECT_EQ(counters().created, 5u);
}

TEST_F(EventRecorderTest, TrackedEventsAreBoundedTheOldestGoingFirst) {
  config_.maxTracked = 3;
  for (int i = 0; i < 3; ++i) {
    record(occurrence("n" + std::to_string(i), "b" + std::to_string(i)));
    timers_.advance(seconds(1));
  }
  record(occurrence("n0", "b0"));  // seen again: the newest now
  record(occurrence("n3", "b3"));  // n1 goes
  EXPECT_EQ(recorder().tracked(), 3u);
  record(occurrence("n2", "b2"));  // still tracked: a series
  EXPECT_EQ(server_->count("POST"), 4u);
  record(occurrence("n1", "b1"));  // forgotten: a new Event
  EXPECT_EQ(server_->count("POST"), 5u);
}

TEST_F(EventRecorderTest, AnApiErrorEndsThatEventsWritesAndIsLoggedOncePerFiveMinutes) {
  server_->scripted.push_back(
      {403, FakeEventServer::status(403, "Forbidden").body});  // no RBAC for events
  record(occurrence("a"));
  for (int i = 0; i < 5; ++i) record(occurrence("a"));
  timers_.advance(seconds(30));
  EXPECT_EQ(server_->sent.size(), 1u) << "a refused Event is not retried";
  EXPECT_EQ(counters().droppedError, 1u);
  ASSERT_EQ(logs_.size(), 1u);
  EXPECT_THAT(logs_[0], HasSubstr("cannot write Event ops/host-0."));
  EXPECT_THAT(logs_[0], HasSubstr("Forbidden"));

  for (int i = 0; i < 3; ++i) {
    server_->scripted.push_back({403, FakeEventServer::status(403, "Forbidden").body});
    record(occurrence("b" + std::to_string(i)));
  }
  EXPECT_EQ(logs_.size(), 1u) << "rate-limited";
  timers_.advance(minutes(5));
  server_->scripted.push_back({403, FakeEventServer::status(403, "Forbidden").body});
  record(occurrence("c"));
  ASSERT_EQ(logs_.size(), 2u);
  EXPECT_THAT(logs_[1], HasSubstr("(and 3 more failure(s) since the last report)"));
}

TEST_F(EventRecorderTest, ASeriesWhoseEventWasDeletedIsCreatedAgainWithItsCount) {
  record(occurrence("a"));
  const std::string name = server_->sent[0].body["metadata"]["name"];
  server_->events.clear();  // the API server's Event TTL
  record(occurrence("a"));
  record(occurrence("a"));
  timers_.advance(seconds(30));
  ASSERT_EQ(server_->sent.size(), 3u);
  EXPECT_EQ(server_->sent[1].method, "PATCH");
  EXPECT_EQ(server_->sent[2].method, "POST");
  EXPECT_EQ(server_->sent[2].body["metadata"]["name"], name);
  EXPECT_EQ(server_->sent[2].body["series"]["count"], 3);
  EXPECT_EQ(server_->events[name]["series"]["count"], 3);
}

TEST_F(EventRecorderTest, MalformedAnswersAreHarmless) {
  server_->scripted.push_back({201, "not json at all"});
  record(occurrence("a"));
  EXPECT_EQ(counters().created, 1u) << "the answer's body is not needed";
  server_->scripted.push_back({500, "{\"kind\":\"Status\",\"code\":"});
  record(occurrence("b"));
  server_->scripted.push_back({422, std::string(5000, '\xff')});
  record(occurrence("c"));
  EXPECT_EQ(counters().droppedError, 2u);
  ASSERT_FALSE(logs_.empty());
  EXPECT_THAT(logs_[0], HasSubstr("cannot write Event"));
  record(occurrence("a"));  // the first one's series goes on
  timers_.advance(seconds(30));
  EXPECT_EQ(server_->count("PATCH"), 1u);
}

TEST_F(EventRecorderTest, AFieldTheApiWouldRefuseIsDroppedCountedAndLogged) {
  auto bad = occurrence("x");
  bad.fields.reason = "not camel case";
  record(bad);
  EXPECT_TRUE(server_->sent.empty());
  EXPECT_EQ(counters().droppedInvalid, 1u);
  ASSERT_EQ(logs_.size(), 1u);
  EXPECT_THAT(logs_[0], HasSubstr("reason"));
}

TEST_F(EventRecorderTest, AnswersAfterTheRecorderIsGoneDoNothing) {
  server_->hold = true;
  record(occurrence("a"));
  recorder().record(occurrence("b"));
  recorder_.reset();
  server_->answerHeld();
  timers_.advance(minutes(1));
  EXPECT_EQ(server_->sent.size(), 1u);
}

}  // namespace
}  // namespace wop::server
