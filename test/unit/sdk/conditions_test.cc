#include "wop/conditions.h"

#include <gtest/gtest.h>

#include "manual_clock.h"

namespace wop::sdk {
namespace {

using std::chrono::minutes;
using testing::ManualClock;

class SdkConditions : public ::testing::Test {
 protected:
  ManualClock clock_;  // 2026-01-02T03:04:05Z
  json conditions_ = json::array();
};

TEST_F(SdkConditions, AnAddedConditionGetsTheTimeNowAndItsGeneration) {
  EXPECT_TRUE(setStatusCondition(conditions_,
                                 {.type = "Ready",
                                  .status = kConditionFalse,
                                  .reason = "Waiting",
                                  .message = "no copies yet",
                                  .observedGeneration = 4},
                                 clock_));
  EXPECT_EQ(conditions_, json::parse(R"([{"type": "Ready", "status": "False",
      "observedGeneration": 4, "lastTransitionTime": "2026-01-02T03:04:05Z",
      "reason": "Waiting", "message": "no copies yet"}])"));
}

TEST_F(SdkConditions, TheTransitionTimeMovesOnlyWhenTheStatusChanges) {
  (void)setStatusCondition(conditions_, {"Ready", kConditionFalse, "Waiting", "", 1, ""}, clock_);
  clock_.advance(minutes(1));
  EXPECT_TRUE(setStatusCondition(
      conditions_, {"Ready", kConditionFalse, "StillWaiting", "two left", 2, ""}, clock_));
  const json* ready = findStatusCondition(conditions_, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ((*ready)["lastTransitionTime"], "2026-01-02T03:04:05Z") << "same status, same time";
  EXPECT_EQ((*ready)["reason"], "StillWaiting");
  EXPECT_EQ((*ready)["message"], "two left");
  EXPECT_EQ((*ready)["observedGeneration"], 2);

  clock_.advance(minutes(1));
  EXPECT_TRUE(
      setStatusCondition(conditions_, {"Ready", kConditionTrue, "Copied", "", 2, ""}, clock_));
  EXPECT_EQ((*findStatusCondition(conditions_, "Ready"))["lastTransitionTime"],
            "2026-01-02T03:06:05Z");
  EXPECT_EQ(conditions_.size(), 1u);
}

TEST_F(SdkConditions, SettingWhatIsThereChangesNothing) {
  const Condition ready{"Ready", kConditionTrue, "Copied", "3 copies", 7, ""};
  (void)setStatusCondition(conditions_, ready, clock_);
  const json before = conditions_;
  clock_.advance(minutes(5));
  EXPECT_FALSE(setStatusCondition(conditions_, ready, clock_));
  EXPECT_EQ(conditions_, before);
}

TEST_F(SdkConditions, AGivenTransitionTimeIsKept) {
  (void)setStatusCondition(
      conditions_, {"Ready", kConditionTrue, "Copied", "", 0, "2020-01-01T00:00:00Z"}, clock_);
  EXPECT_EQ(conditions_[0]["lastTransitionTime"], "2020-01-01T00:00:00Z");
  EXPECT_FALSE(conditions_[0].contains("observedGeneration")) << "0 is omitted, as omitempty";
  (void)setStatusCondition(
      conditions_, {"Ready", kConditionFalse, "Lost", "", 0, "2021-01-01T00:00:00Z"}, clock_);
  EXPECT_EQ(conditions_[0]["lastTransitionTime"], "2021-01-01T00:00:00Z");
}

TEST_F(SdkConditions, FindRemoveAndTheStatusQuestions) {
  (void)setStatusCondition(conditions_, {"Ready", kConditionTrue, "Ok", "", 1, ""}, clock_);
  (void)setStatusCondition(conditions_, {"Degraded", kConditionFalse, "Ok", "", 1, ""}, clock_);
  (void)setStatusCondition(conditions_, {"Synced", kConditionUnknown, "Pending", "", 1, ""},
                           clock_);
  EXPECT_TRUE(isStatusConditionTrue(conditions_, "Ready"));
  EXPECT_FALSE(isStatusConditionFalse(conditions_, "Ready"));
  EXPECT_TRUE(isStatusConditionFalse(conditions_, "Degraded"));
  EXPECT_FALSE(isStatusConditionTrue(conditions_, "Synced"));
  EXPECT_FALSE(isStatusConditionFalse(conditions_, "Synced"));
  EXPECT_TRUE(isStatusConditionPresentAndEqual(conditions_, "Synced", kConditionUnknown));
  EXPECT_FALSE(isStatusConditionTrue(conditions_, "Missing"));
  EXPECT_EQ(findStatusCondition(conditions_, "Missing"), nullptr);

  EXPECT_TRUE(removeStatusCondition(conditions_, "Degraded"));
  EXPECT_FALSE(removeStatusCondition(conditions_, "Degraded"));
  ASSERT_EQ(conditions_.size(), 2u);
  EXPECT_EQ(conditions_[0]["type"], "Ready");
  EXPECT_EQ(conditions_[1]["type"], "Synced");
}

TEST_F(SdkConditions, MalformedListsNeverThrowOrAbort) {
  json notAList = "nonsense";
  EXPECT_EQ(findStatusCondition(notAList, "Ready"), nullptr);
  EXPECT_FALSE(removeStatusCondition(notAList, "Ready"));
  EXPECT_TRUE(setStatusCondition(notAList, {"Ready", kConditionTrue, "Ok", "", 0, ""}, clock_));
  EXPECT_TRUE(notAList.is_array());
  json odd = json::parse(R"([7, null, {"type": 3}, {"type": "Ready", "status": true}])");
  EXPECT_FALSE(isStatusConditionTrue(odd, "Ready")) << "a status that is not a string";
  EXPECT_TRUE(setStatusCondition(odd, {"Ready", kConditionTrue, "Ok", "", 0, ""}, clock_));
  EXPECT_TRUE(isStatusConditionTrue(odd, "Ready"));
  EXPECT_EQ(odd.size(), 4u) << "entries that are not conditions are left alone";
}

TEST_F(SdkConditions, OnAnObjectTheGenerationIsTheObjects) {
  json object = json::parse(R"({"metadata": {"name": "a", "generation": 9}, "spec": {}})");
  EXPECT_TRUE(
      setCondition(object, {.type = "Ready", .status = kConditionTrue, .reason = "Ok"}, clock_));
  EXPECT_EQ(object["status"]["conditions"][0]["observedGeneration"], 9);
  EXPECT_TRUE(isStatusConditionTrue(conditionsOf(object), "Ready"));
  EXPECT_TRUE(setCondition(
      object, {.type = "Ready", .status = kConditionTrue, .reason = "Ok", .observedGeneration = 3},
      clock_));
  EXPECT_EQ(object["status"]["conditions"][0]["observedGeneration"], 3) << "given wins";
  EXPECT_TRUE(conditionsOf(json::object()).empty());
}

}  // namespace
}  // namespace wop::sdk
