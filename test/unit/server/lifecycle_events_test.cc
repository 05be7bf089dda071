#include "server/lifecycle_events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace wop::server {
namespace {

using runtime::LifecycleChange;
using runtime::LifecycleEvent;
using ::testing::HasSubstr;

const ObjectReference kPod{"Pod", "v1", "ops", "host-0", ""};

TEST(LifecycleEventsTest, EachChangeHasItsTypeReasonAndAction) {
  struct Want {
    LifecycleChange change;
    EventType type;
    const char* reason;
    const char* action;
  };
  const Want wants[] = {
      {LifecycleChange::kLoaded, EventType::kNormal, "Loaded", "Load"},
      {LifecycleChange::kRefused, EventType::kWarning, "Refused", "Load"},
      {LifecycleChange::kTrapped, EventType::kWarning, "Trapped", "Run"},
      {LifecycleChange::kBackOff, EventType::kWarning, "BackOff", "Restart"},
      {LifecycleChange::kRestarted, EventType::kNormal, "Restarted", "Restart"},
      {LifecycleChange::kSwappedOut, EventType::kNormal, "SwappedOut", "SwapOut"},
      {LifecycleChange::kUpgraded, EventType::kNormal, "Upgraded", "Upgrade"},
  };
  for (const auto& want : wants) {
    const auto o = lifecycleOccurrence({.change = want.change, .operatorName = "ring-0"}, kPod);
    EXPECT_EQ(o.fields.type, want.type) << want.reason;
    EXPECT_EQ(o.fields.reason, want.reason);
    EXPECT_EQ(o.fields.action, want.action);
    EXPECT_EQ(o.fields.regarding, kPod);
    EXPECT_THAT(o.fields.note, HasSubstr("ring-0")) << "operators sharing the Pod stay apart";
    EXPECT_EQ(o.budget, "operator/ring-0");
    EXPECT_TRUE(validateEventFields(o.fields).isOk()) << want.reason;
  }
}

TEST(LifecycleEventsTest, ATrapsNoteIsItsFirstLine) {
  const auto o = lifecycleOccurrence({.change = LifecycleChange::kTrapped,
                                      .operatorName = "a",
                                      .detail = "wop_reconcile: wasm trap: unreachable\n"
                                                "wasm backtrace:\n  0: 0x1a - f"},
                                     kPod);
  EXPECT_EQ(o.fields.note, "Operator a failed: wop_reconcile: wasm trap: unreachable");
}

TEST(LifecycleEventsTest, BackOffNotesDoNotChangeWithTheDelaySoRepeatsAggregate) {
  auto first = lifecycleOccurrence({.change = LifecycleChange::kBackOff,
                                    .operatorName = "a",
                                    .failures = 1,
                                    .delay = std::chrono::milliseconds(900)},
                                   kPod);
  auto later = lifecycleOccurrence({.change = LifecycleChange::kBackOff,
                                    .operatorName = "a",
                                    .failures = 7,
                                    .delay = std::chrono::milliseconds(48'000)},
                                   kPod);
  EXPECT_EQ(first.fields.note, later.fields.note);
}

TEST(LifecycleEventsTest, ThePodComesFromTheDownwardApisVariables) {
  EXPECT_FALSE(podReference(nullptr, "ops", nullptr, "default"));
  EXPECT_FALSE(podReference("", "ops", nullptr, "default"));
  EXPECT_EQ(*podReference("host-0", "ops", "u-1", "default"),
            (ObjectReference{"Pod", "v1", "ops", "host-0", "u-1"}));
  EXPECT_EQ(podReference("host-0", nullptr, nullptr, "team")->ns, "team");
  EXPECT_EQ(podReference("host-0", "", nullptr, "")->ns, "default");
}

TEST(LifecycleEventsTest, WithoutASessionNothingIsRecorded) {
  int asked = 0;
  LifecycleEvents events([&](const std::string&) {
    ++asked;
    return kPod;
  });
  events.changed({.change = LifecycleChange::kLoaded, .operatorName = "a"});
  EXPECT_EQ(asked, 0);
}

}  // namespace
}  // namespace wop::server
