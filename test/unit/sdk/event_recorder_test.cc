#include "wop/event_recorder.h"

#include <gtest/gtest.h>

#include <optional>

#include "manual_clock.h"
#include "scripted_host.h"
#include "wop/runtime.h"

namespace wop::sdk {
namespace {

using scripted::ScriptedHost;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::ManualClock;
using What = EventRecorded::What;

constexpr const char* kController = "replicator.wasm-operator.dev/replicator";

detail::Detached drive(Task<EventRecorded> task, std::optional<EventRecorded>& out) {
  out = co_await std::move(task);
}
detail::Detached driveFlush(Task<size_t> task, std::optional<size_t>& out) {
  out = co_await std::move(task);
}

class SdkEventRecorder : public ::testing::Test {
 protected:
  // Records an occurrence and answers every call it makes with `status`.
  EventRecorded record(const std::string& reason = "CopyFailed", const std::string& note = "full",
                       int32_t status = 201, const json* regarding = nullptr) {
    std::optional<EventRecorded> out;
    const size_t before = host_.calls.size();
    drive(recorder_.event(runtime_.client(), regarding ? *regarding : object_, EventType::Warning,
                          reason, "Copy", note),
          out);
    for (size_t answered = before; !out && answered < host_.calls.size(); ++answered) {
      const bool isPatch = host_.calls[answered]["verb"] == "patch";
      runtime_.complete(static_cast<uint32_t>(answered + 1),
                        isPatch && status == 201 ? 200 : status, "{}");
    }
    EXPECT_TRUE(out) << "every call was answered";
    return out.value_or(EventRecorded{What::kFailed, "never finished"});
  }
  std::vector<json> callsSince(size_t from) const {
    return {host_.calls.begin() + static_cast<std::ptrdiff_t>(from), host_.calls.end()};
  }

  ScriptedHost host_;
  detail::Runtime runtime_{host_};
  ManualClock clock_;  // 2026-01-02T03:04:05Z
  EventRecorder recorder_{{.reportingController = kController}, clock_};
  json object_ = json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap",
      "metadata": {"namespace": "shop", "name": "Settings_1", "uid": "u-1"}})");
};

TEST_F(SdkEventRecorder, AFirstOccurrenceCreatesAnEventsV1EventAsTheOperator) {
  EXPECT_EQ(record().what, What::kCreated);
  ASSERT_EQ(host_.calls.size(), 1u);
  const json& call = host_.calls[0];
  EXPECT_EQ(call["verb"], "create");
  EXPECT_EQ(call["apiVersion"], "events.k8s.io/v1");
  EXPECT_EQ(call["kind"], "Event");
  EXPECT_EQ(call["namespace"], "shop");
  json body = call["body"];
  const std::string name = body["metadata"]["name"];
  EXPECT_EQ(name.rfind("settings-1.", 0), 0u) << name << ": a DNS subdomain from the name";
  body["metadata"].erase("name");
  EXPECT_EQ(body, json::parse(R"({"apiVersion": "events.k8s.io/v1", "kind": "Event",
      "metadata": {"namespace": "shop"}, "eventTime": "2026-01-02T03:04:05.000000Z",
      "reportingController": "replicator.wasm-operator.dev/replicator",
      "reportingInstance": "replicator.wasm-operator.dev/replicator",
      "action": "Copy", "reason": "CopyFailed", "type": "Warning", "note": "full",
      "regarding": {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "shop",
                    "name": "Settings_1", "uid": "u-1"}})"));
  EXPECT_EQ(recorder_.tracked(), 1u);
}

TEST_F(SdkEventRecorder, AnEventAboutAClusterScopedObjectGoesToDefault) {
  json node = json::parse(R"({"apiVersion": "v1", "kind": "Namespace",
      "metadata": {"name": "shop", "uid": "n-1"}})");
  EXPECT_EQ(record("Labelled", "", 201, &node).what, What::kCreated);
  EXPECT_EQ(host_.calls[0]["namespace"], "default");
  EXPECT_EQ(host_.calls[0]["body"]["metadata"]["namespace"], "default");
  EXPECT_FALSE(host_.calls[0]["body"]["regarding"].contains("namespace"));
}

// client-go's series: the first repeat is written at once, later ones once per 30 s.
TEST_F(SdkEventRecorder, RepeatsBecomeASeriesWrittenBackAtMostEveryThirtySeconds) {
  EXPECT_EQ(record().what, What::kCreated);
  const std::string name = host_.calls[0]["body"]["metadata"]["name"];
  clock_.advance(seconds(1));
  EXPECT_EQ(record().what, What::kSeriesWritten);
  ASSERT_EQ(host_.calls.size(), 2u);
  EXPECT_EQ(host_.calls[1]["verb"], "patch");
  EXPECT_EQ(host_.calls[1]["namespace"], "shop");
  EXPECT_EQ(host_.calls[1]["name"], name);
  EXPECT_EQ(host_.calls[1]["patchType"], "merge");
  EXPECT_EQ(host_.calls[1]["body"], json::parse(R"({"series": {"count": 2,
      "lastObservedTime": "2026-01-02T03:04:06.000000Z"}})"));

  for (int i = 0; i < 5; ++i) {
    clock_.advance(seconds(5));
    EXPECT_EQ(record().what, What::kCounted);
  }
  EXPECT_EQ(host_.calls.size(), 2u) << "no request within the flush period";
  clock_.advance(seconds(5));  // 31 s after the last write
  EXPECT_EQ(record().what, What::kSeriesWritten);
  ASSERT_EQ(host_.calls.size(), 3u);
  EXPECT_EQ(host_.calls[2]["body"]["series"]["count"], 8);
  EXPECT_EQ(host_.calls[2]["body"]["series"]["lastObservedTime"], "2026-01-02T03:04:36.000000Z");
  EXPECT_EQ(recorder_.tracked(), 1u);
}

TEST_F(SdkEventRecorder, ADifferentNoteReasonOrObjectIsADifferentEvent) {
  json other = object_;
  other["metadata"]["name"] = "other";
  EXPECT_EQ(record("CopyFailed", "full").what, What::kCreated);
  EXPECT_EQ(record("CopyFailed", "gone").what, What::kCreated);
  EXPECT_EQ(record("Copied", "full").what, What::kCreated);
  EXPECT_EQ(record("CopyFailed", "full", 201, &other).what, What::kCreated);
  EXPECT_EQ(recorder_.tracked(), 4u);
  for (const auto& call : host_.calls) EXPECT_EQ(call["verb"], "create");
}

TEST_F(SdkEventRecorder, AfterSixQuietMinutesARepeatStartsANewEventAndTheOldGetsItsLastCount) {
  (void)record();
  clock_.advance(seconds(1));
  (void)record();  // count 2, written
  clock_.advance(seconds(1));
  EXPECT_EQ(record().what, What::kCounted);  // count 3, not yet written
  clock_.advance(minutes(6));
  const size_t before = host_.calls.size();
  EXPECT_EQ(record().what, What::kCreated);
  auto calls = callsSince(before);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0]["verb"], "patch") << "the old series' last count";
  EXPECT_EQ(calls[0]["body"]["series"]["count"], 3);
  EXPECT_EQ(calls[1]["verb"], "create");
  EXPECT_NE(calls[1]["body"]["metadata"]["name"], host_.calls[0]["body"]["metadata"]["name"]);
  EXPECT_FALSE(calls[1]["body"].contains("series"));
  EXPECT_EQ(recorder_.tracked(), 1u) << "the old one is forgotten";
}

TEST_F(SdkEventRecorder, ASeriesWhoseEventWasDeletedIsCreatedAgainWithItsCount) {
  (void)record();
  clock_.advance(seconds(1));
  std::optional<EventRecorded> out;
  drive(
      recorder_.event(runtime_.client(), object_, EventType::Warning, "CopyFailed", "Copy", "full"),
      out);
  ASSERT_EQ(host_.calls.back()["verb"], "patch");
  runtime_.complete(2, 404, R"({"kind": "Status", "reason": "NotFound"})");
  ASSERT_EQ(host_.calls.size(), 3u);
  EXPECT_EQ(host_.calls[2]["verb"], "create");
  EXPECT_EQ(host_.calls[2]["body"]["series"]["count"], 2);
  EXPECT_EQ(host_.calls[2]["body"]["metadata"]["name"], host_.calls[0]["body"]["metadata"]["name"]);
  runtime_.complete(3, 201, "{}");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->what, What::kCreated);
}

TEST_F(SdkEventRecorder, TheSpamFilterAllowsABurstOf25NewEventsPerObjectThenOneEvery5Minutes) {
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(record("Reason" + std::to_string(i)).what, What::kCreated) << i;
  }
  auto dropped = record("Reason25");
  EXPECT_EQ(dropped.what, What::kDropped);
  EXPECT_FALSE(dropped.failed()) << "dropping is the design, not a failure";
  EXPECT_NE(dropped.error.find("spam filter"), std::string::npos) << dropped.error;
  EXPECT_EQ(host_.calls.size(), 25u);
  json other = object_;
  other["metadata"]["uid"] = "u-2";
  EXPECT_EQ(record("Reason25", "full", 201, &other).what, What::kCreated) << "its own budget";
  clock_.advance(minutes(5));
  EXPECT_EQ(record("Reason26").what, What::kCreated);
  EXPECT_EQ(record("Reason27").what, What::kDropped);
}

TEST_F(SdkEventRecorder, RepeatsTakeNoTokenFromTheSpamFilter) {
  for (int i = 0; i < 100; ++i) {
    clock_.advance(seconds(1));
    EXPECT_NE(record().what, What::kDropped) << i;
  }
}

TEST_F(SdkEventRecorder, WhatTheApiServerWouldRefuseIsNotSent) {
  EventRecorder unqualified({.reportingController = "Not Qualified!"}, clock_);
  std::optional<EventRecorded> out;
  drive(unqualified.event(runtime_.client(), object_, EventType::Normal, "Copied", "Copy", ""),
        out);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->what, What::kInvalid);
  EXPECT_TRUE(out->failed());
  EXPECT_NE(out->error.find("reportingController"), std::string::npos) << out->error;
  EXPECT_EQ(record("").what, What::kInvalid);
  EXPECT_EQ(record(std::string(129, 'A')).what, What::kInvalid);
  json nameless = object_;
  nameless["metadata"].erase("name");
  EXPECT_EQ(record("Copied", "", 201, &nameless).what, What::kInvalid);
  EXPECT_TRUE(host_.calls.empty());
}

TEST_F(SdkEventRecorder, TheNoteIsMadeValidUtf8AndCutTo1024Bytes) {
  // Invalid UTF-8 would make the SDK's JSON writer abort (a trap) when the request is sent.
  EXPECT_EQ(record("Copied", "bad \xff byte").what, What::kCreated);
  EXPECT_EQ(host_.calls[0]["body"]["note"], "bad \xef\xbf\xbd byte");
  std::string longNote(1023, 'x');
  longNote += "\xc3\xa9";  // a 2-byte character across the limit is dropped whole
  EXPECT_EQ(record("Copied", longNote).what, What::kCreated);
  EXPECT_EQ(host_.calls[1]["body"]["note"], std::string(1023, 'x'));
}

TEST_F(SdkEventRecorder, ARefusedCreateIsAFailureAndTheNextOccurrenceTriesAgain) {
  std::optional<EventRecorded> out;
  drive(
      recorder_.event(runtime_.client(), object_, EventType::Warning, "CopyFailed", "Copy", "full"),
      out);
  runtime_.complete(1, 403,
                    R"({"kind": "Status", "message": "events.events.k8s.io is forbidden"})");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->what, What::kFailed);
  EXPECT_NE(out->error.find("HTTP 403: events.events.k8s.io is forbidden"), std::string::npos)
      << out->error;
  EXPECT_EQ(recorder_.tracked(), 0u);
  EXPECT_EQ(record().what, What::kCreated);
}

TEST_F(SdkEventRecorder, PendingCountsAreWrittenBackByLaterEventsOrByFlush) {
  (void)record("A");
  (void)record("A");  // count 2, written at once
  (void)record("A");  // count 3, pending
  clock_.advance(seconds(31));
  const size_t before = host_.calls.size();
  EXPECT_EQ(record("B").what, What::kCreated);
  auto calls = callsSince(before);
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0]["verb"], "create");
  EXPECT_EQ(calls[1]["verb"], "patch") << "A's count, written back on B's occasion";
  EXPECT_EQ(calls[1]["body"]["series"]["count"], 3);

  (void)record("B");  // count 2, written at once
  (void)record("B");  // count 3, pending, its period not over
  std::optional<size_t> failures;
  driveFlush(recorder_.flush(runtime_.client()), failures);
  ASSERT_EQ(host_.calls.back()["verb"], "patch");
  EXPECT_EQ(host_.calls.back()["body"]["series"]["count"], 3);
  runtime_.complete(static_cast<uint32_t>(host_.calls.size()), 200, "{}");
  ASSERT_TRUE(failures);
  EXPECT_EQ(*failures, 0u);
}

TEST_F(SdkEventRecorder, RepeatsWhileTheCreateIsInFlightAreCountedNotSent) {
  std::optional<EventRecorded> first, second, third;
  auto occur = [&](std::optional<EventRecorded>& out) {
    drive(recorder_.event(runtime_.client(), object_, EventType::Warning, "CopyFailed", "Copy",
                          "full"),
          out);
  };
  occur(first);
  occur(second);
  occur(third);
  ASSERT_EQ(host_.calls.size(), 1u) << "one create in flight, nothing else sent";
  EXPECT_EQ(second->what, What::kCounted);
  EXPECT_EQ(third->what, What::kCounted);
  runtime_.complete(1, 201, "{}");
  EXPECT_EQ(first->what, What::kCreated);
  EXPECT_FALSE(host_.calls[0]["body"].contains("series"));
  std::optional<size_t> failures;
  driveFlush(recorder_.flush(runtime_.client()), failures);
  ASSERT_EQ(host_.calls.size(), 2u);
  EXPECT_EQ(host_.calls[1]["body"]["series"]["count"], 3);
  runtime_.complete(2, 200, "{}");
  EXPECT_EQ(failures, 0u);
}

TEST_F(SdkEventRecorder, TrackedSeriesAreBounded) {
  EventRecorder small({.reportingController = kController, .maxTracked = 3}, clock_);
  for (int i = 0; i < 10; ++i) {
    std::optional<EventRecorded> out;
    drive(small.event(runtime_.client(), object_, EventType::Normal, "R" + std::to_string(i),
                      "Copy", ""),
          out);
    runtime_.complete(static_cast<uint32_t>(host_.calls.size()), 201, "{}");
    ASSERT_TRUE(out);
    EXPECT_EQ(out->what, What::kCreated);
    EXPECT_LE(small.tracked(), 3u);
    clock_.advance(milliseconds(10));
  }
}

TEST_F(SdkEventRecorder, AGivenReportingInstanceIsUsed) {
  EventRecorder named({.reportingController = kController, .reportingInstance = "pod-7"}, clock_);
  std::optional<EventRecorded> out;
  drive(named.event(runtime_.client(), object_, EventType::Normal, "Copied", "Copy", ""), out);
  EXPECT_EQ(host_.calls[0]["body"]["reportingInstance"], "pod-7");
  EXPECT_EQ(host_.calls[0]["body"]["type"], "Normal");
  runtime_.complete(1, 201, "{}");
}

}  // namespace
}  // namespace wop::sdk
