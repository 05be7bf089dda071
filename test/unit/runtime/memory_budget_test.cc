#include "runtime/memory_budget.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace wop::runtime {
namespace {

using std::chrono::seconds;

constexpr uint64_t kMiB = 1 << 20;

// Operators as tags; each eviction callback records the tag it was registered with.
struct Fleet {
  MemoryBudget budget;
  std::vector<std::string> asked;
  int tags[8] = {};

  explicit Fleet(uint64_t bytes) : budget(bytes) {
    for (int i = 0; i < 8; ++i) {
      budget.enroll(&tags[i], [this, i] { asked.push_back("op" + std::to_string(i)); });
    }
  }
  // Reported as it goes idle, with no predicted wake.
  void report(int i, uint64_t bytes, int activeAtSecond) {
    const common::TimePoint at{seconds(activeAtSecond)};
    budget.report(&tags[i], bytes, {.lastActive = at}, at);
  }
  // Reported at nowSecond (by default as it goes idle) with the predictor's guess.
  void reportExpecting(int i, uint64_t bytes, int activeAtSecond, int wakeAtSecond,
                       int nowSecond = -1) {
    const common::TimePoint at{seconds(activeAtSecond)};
    const common::TimePoint now{seconds(nowSecond < 0 ? activeAtSecond : nowSecond)};
    budget.report(&tags[i], bytes,
                  {.lastActive = at, .expectedWake = common::TimePoint(seconds(wakeAtSecond))},
                  now);
  }
};

TEST(MemoryBudget, UnderTheBudgetNobodyIsAsked) {
  Fleet fleet(10 * kMiB);
  fleet.report(0, 4 * kMiB, 1);
  fleet.report(1, 4 * kMiB, 2);
  EXPECT_TRUE(fleet.asked.empty());
  EXPECT_EQ(fleet.budget.residentBytes(), 8 * kMiB);
}

TEST(MemoryBudget, APrefetchFitsBesideWhatIsResident) {
  Fleet fleet(10 * kMiB);
  const common::TimePoint now{seconds(2)};
  const common::TimePoint soon{seconds(3)};
  fleet.reportExpecting(0, 6 * kMiB, 1, 2);  // due now: it may not be sent out for anyone
  EXPECT_TRUE(fleet.budget.roomForPrefetch(&fleet.tags[1], 4 * kMiB, soon, now));
  EXPECT_FALSE(fleet.budget.roomForPrefetch(&fleet.tags[1], 4 * kMiB + 1, soon, now));
  fleet.report(0, 0, 2);  // swapped out
  EXPECT_TRUE(fleet.budget.roomForPrefetch(&fleet.tags[1], 10 * kMiB, soon, now));
  EXPECT_TRUE(fleet.asked.empty()) << "asking is the next report's job";
}

// The ring again: the budget is full of the operators that just ran. The one due next may
// come back ahead of its change, since those it would send out are due a lap later; an
// operator due later than every resident one may not.
TEST(MemoryBudget, APrefetchMakesRoomOnlyByOperatorsDueLaterThanItself) {
  Fleet fleet(8 * kMiB);
  const common::TimePoint now{seconds(10)};
  fleet.reportExpecting(1, 4 * kMiB, 8, 18, 10);  // ran at 8, due a lap later
  fleet.reportExpecting(2, 4 * kMiB, 9, 19, 10);
  EXPECT_TRUE(
      fleet.budget.roomForPrefetch(&fleet.tags[3], 4 * kMiB, common::TimePoint{seconds(11)}, now));
  EXPECT_TRUE(
      fleet.budget.roomForPrefetch(&fleet.tags[3], 8 * kMiB, common::TimePoint{seconds(11)}, now));
  EXPECT_FALSE(fleet.budget.roomForPrefetch(&fleet.tags[3], 8 * kMiB + 1,
                                            common::TimePoint{seconds(11)}, now));
  // Due at 18.5: only op2 (19) is due later.
  EXPECT_TRUE(fleet.budget.roomForPrefetch(
      &fleet.tags[3], 4 * kMiB, common::TimePoint{std::chrono::milliseconds(18500)}, now));
  EXPECT_FALSE(fleet.budget.roomForPrefetch(
      &fleet.tags[3], 4 * kMiB + 1, common::TimePoint{std::chrono::milliseconds(18500)}, now));
  EXPECT_FALSE(
      fleet.budget.roomForPrefetch(&fleet.tags[3], 1, common::TimePoint{seconds(20)}, now));
}

// A prefetch window wider than the budget holds: operators swapped out and due back before
// the change leave the room to themselves, so the prefetch waits until it is among the
// soonest the budget holds (an operator let in early went out again for one due sooner).
TEST(MemoryBudget, APrefetchLeavesRoomForTheSwappedOutDueBackSooner) {
  Fleet fleet(8 * kMiB);
  const common::TimePoint now{seconds(10)};
  auto swappedOut = [&](int i, int wakeAtSecond) {
    fleet.budget.report(&fleet.tags[i], 0,
                        {.lastActive = common::TimePoint{seconds(5)},
                         .expectedWake = common::TimePoint{seconds(wakeAtSecond)},
                         .restoreBytes = 4 * kMiB},
                        now);
  };
  fleet.reportExpecting(1, 4 * kMiB, 9, 30, 10);  // just ran, due far ahead: may go
  swappedOut(2, 11);
  swappedOut(3, 12);
  swappedOut(4, 2);  // late by 8 s, beyond the wait its guess predicted (none): not due soon
  EXPECT_TRUE(fleet.budget.roomForPrefetch(
      &fleet.tags[0], 4 * kMiB, common::TimePoint{std::chrono::milliseconds(11500)}, now));
  EXPECT_FALSE(
      fleet.budget.roomForPrefetch(&fleet.tags[0], 4 * kMiB, common::TimePoint{seconds(13)}, now));
  // Back in (resident, due sooner) it still counts; once it has run and is due far ahead, not.
  fleet.reportExpecting(2, 4 * kMiB, 10, 11, 10);
  EXPECT_FALSE(
      fleet.budget.roomForPrefetch(&fleet.tags[0], 4 * kMiB, common::TimePoint{seconds(13)}, now));
  fleet.reportExpecting(2, 4 * kMiB, 10, 40, 10);
  EXPECT_TRUE(
      fleet.budget.roomForPrefetch(&fleet.tags[0], 4 * kMiB, common::TimePoint{seconds(13)}, now));
  fleet.budget.forget(&fleet.tags[3]);
  EXPECT_TRUE(
      fleet.budget.roomForPrefetch(&fleet.tags[0], 8 * kMiB, common::TimePoint{seconds(13)}, now));
}

// A ring behind its predictions: the operators between the token and a prefetched one are past
// their guesses, and each comes back on its change before it. Left out of the count, they sent
// the prefetched operator out again unused.
TEST(MemoryBudget, APrefetchLeavesRoomForTheOverdueDueAnyMoment) {
  Fleet fleet(8 * kMiB);
  const common::TimePoint now{seconds(10)};
  const common::TimePoint mine{seconds(11)};
  auto swappedOut = [&](int i, int activeAtSecond, int wakeAtSecond) {
    fleet.budget.report(&fleet.tags[i], 0,
                        {.lastActive = common::TimePoint{seconds(activeAtSecond)},
                         .expectedWake = common::TimePoint{seconds(wakeAtSecond)},
                         .restoreBytes = 4 * kMiB},
                        now);
  };
  swappedOut(1, 1, 9);  // 1 s late on a wait of 8 s: due any moment
  EXPECT_TRUE(fleet.budget.roomForPrefetch(&fleet.tags[0], 4 * kMiB, mine, now));
  EXPECT_FALSE(fleet.budget.roomForPrefetch(&fleet.tags[0], 4 * kMiB + 1, mine, now));
  // Late by 5 s beyond a wait of 2 s: that guess did not come true, and it is judged by the
  // 5 s, as a resident operator is: further than a prefetch due in 1 s, nearer than one in 6.
  swappedOut(1, 1, 3);
  EXPECT_TRUE(fleet.budget.roomForPrefetch(&fleet.tags[0], 8 * kMiB, mine, now));
  EXPECT_FALSE(
      fleet.budget.roomForPrefetch(&fleet.tags[0], 8 * kMiB, common::TimePoint{seconds(16)}, now));
  // Its own entry never counts against it.
  swappedOut(0, 1, 9);
  EXPECT_TRUE(fleet.budget.roomForPrefetch(&fleet.tags[0], 8 * kMiB, mine, now));
}

TEST(MemoryBudget, APrefetchDoesNotCountOnBusyOperatorsToMakeRoom) {
  Fleet fleet(8 * kMiB);
  const common::TimePoint now{seconds(10)};
  fleet.budget.report(&fleet.tags[0], 8 * kMiB,
                      {.lastActive = now, .expectedWake = now + seconds(60), .busy = true}, now);
  EXPECT_FALSE(fleet.budget.roomForPrefetch(&fleet.tags[1], 1, now + seconds(1), now));
  fleet.budget.report(&fleet.tags[0], 8 * kMiB,
                      {.lastActive = now, .expectedWake = now + seconds(60)}, now);
  EXPECT_TRUE(fleet.budget.roomForPrefetch(&fleet.tags[1], 1, now + seconds(1), now));
}

TEST(MemoryBudget, APrefetchCountsOperatorsAlreadyAskedAsLeavingAndNeverItself) {
  Fleet fleet(8 * kMiB);
  fleet.reportExpecting(0, 4 * kMiB, 1, 4);
  fleet.reportExpecting(1, 6 * kMiB, 2, 3);  // 10 > 8: op0 asked
  ASSERT_EQ(fleet.asked, std::vector<std::string>{"op0"});
  const common::TimePoint now{seconds(2)};
  const common::TimePoint wake{seconds(30)};
  EXPECT_TRUE(fleet.budget.roomForPrefetch(&fleet.tags[2], 2 * kMiB, wake, now));
  EXPECT_FALSE(fleet.budget.roomForPrefetch(&fleet.tags[2], 2 * kMiB + 1, wake, now));
  // op1 holding code while out must not make room for itself by its own bytes.
  EXPECT_FALSE(
      fleet.budget.roomForPrefetch(&fleet.tags[1], 4 * kMiB, common::TimePoint{seconds(1)}, now));
}

TEST(MemoryBudget, CatchesUpWhileOverWithSwapOutsAskedAndNotYetDone) {
  Fleet fleet(10 * kMiB);
  fleet.report(0, 8 * kMiB, 1);
  EXPECT_FALSE(fleet.budget.catchingUp());
  fleet.report(1, 8 * kMiB, 2);  // over: op0 asked
  EXPECT_TRUE(fleet.budget.catchingUp());
  fleet.report(0, 0, 3);  // op0 swapped out
  EXPECT_FALSE(fleet.budget.catchingUp());
  Fleet alone(1 * kMiB);
  alone.report(0, 4 * kMiB, 1);  // over, but alone: nobody due sooner, it stays
  EXPECT_TRUE(alone.asked.empty());
  EXPECT_FALSE(alone.budget.catchingUp());
}

TEST(MemoryBudget, OverTheBudgetTheLeastRecentlyActiveGoFirstUntilTheRestFits) {
  Fleet fleet(10 * kMiB);
  fleet.report(0, 4 * kMiB, 3);
  fleet.report(1, 4 * kMiB, 1);  // least recently active
  fleet.report(2, 4 * kMiB, 2);
  // 12 MiB > 10: asking op1 (4 MiB) leaves 8, which fits; op2 stays.
  EXPECT_EQ(fleet.asked, std::vector<std::string>{"op1"});
  fleet.report(3, 6 * kMiB, 4);  // 18 MiB, op1's 4 on its way out: 14 > 10; op2 (older) goes
  EXPECT_EQ(fleet.asked, (std::vector<std::string>{"op1", "op2"}));
  EXPECT_EQ(fleet.budget.evictionsRequested(), 2u);
}

// A ring: each operator wakes once per lap, in turn. The one due next was active longest ago,
// so recency would send it out; its expected wake keeps it, and the one that just ran goes,
// though it is the one reporting.
TEST(MemoryBudget, OverTheBudgetTheOperatorsWokenLastInACycleGoFirst) {
  Fleet fleet(10 * kMiB);
  fleet.reportExpecting(0, 4 * kMiB, 1, 11);  // due next (lap of 10 s)
  fleet.reportExpecting(1, 4 * kMiB, 5, 15);
  fleet.reportExpecting(2, 4 * kMiB, 9, 19);  // just ran: 12 MiB > 10
  EXPECT_EQ(fleet.asked, std::vector<std::string>{"op2"});
  fleet.reportExpecting(3, 4 * kMiB, 10, 20);
  EXPECT_EQ(fleet.asked, (std::vector<std::string>{"op2", "op3"}));
}

// Without a guess an operator is taken to stay quiet as long as it has been. A guess far ahead
// goes before that; a guess a little late is due any moment.
TEST(MemoryBudget, AnOperatorWithNoExpectedWakeIsJudgedByHowLongItHasBeenQuiet) {
  Fleet fleet(8 * kMiB);
  fleet.reportExpecting(2, 4 * kMiB, 90, 130);      // at 100: 30 s off
  fleet.report(0, 4 * kMiB, 95);                    // at 100: quiet 5 s, taken as 5 s off
  fleet.reportExpecting(1, 4 * kMiB, 90, 99, 100);  // 1 s late of a 9 s wait: 0; 12 > 8
  EXPECT_EQ(fleet.asked, std::vector<std::string>{"op2"});
  fleet.reportExpecting(3, 4 * kMiB, 100, 101);  // 12 > 8 beside op2's 4 on its way out
  EXPECT_EQ(fleet.asked, (std::vector<std::string>{"op2", "op0"}));
}

// The budget full of operators due within a second: one a little late is the next to run, so
// it stays and the one due last goes. Late by more than its whole predicted wait, it is judged
// as quiet beyond that.
TEST(MemoryBudget, AnOperatorALittleLateIsDueAnyMomentNotFarAhead) {
  Fleet fleet(8 * kMiB);
  fleet.reportExpecting(0, 4 * kMiB, 90, 98, 100);  // predicted at 98, 2 s late
  fleet.reportExpecting(1, 4 * kMiB, 91, 101, 100);
  fleet.reportExpecting(2, 4 * kMiB, 92, 100, 100);  // due now: 12 > 8
  EXPECT_EQ(fleet.asked, std::vector<std::string>{"op1"});
  Fleet late(8 * kMiB);
  late.reportExpecting(0, 4 * kMiB, 90, 95, 106);    // a 5 s wait, 11 s late: 6 s off
  late.reportExpecting(1, 4 * kMiB, 100, 105, 106);  // 1 s late: due any moment
  late.reportExpecting(2, 4 * kMiB, 101, 108, 106);  // 2 s off: 12 > 8
  EXPECT_EQ(late.asked, std::vector<std::string>{"op0"});
}

TEST(MemoryBudget, TheReporterJustActiveGoesOnlyWhenTheOthersDoNotMakeRoom) {
  Fleet fleet(8 * kMiB);
  fleet.report(0, 4 * kMiB, 1);
  fleet.report(1, 6 * kMiB, 5);  // quiet 0 s against op0's 4 s: op0 goes
  EXPECT_EQ(fleet.asked, std::vector<std::string>{"op0"});
  fleet.report(2, 9 * kMiB, 6);  // 19 with op0's 4 leaving: op1 (1 s); op2 (0) is due soonest
  EXPECT_EQ(fleet.asked, (std::vector<std::string>{"op0", "op1"}));
}

// Busy operators cannot go now: asking them only made them run a slice to say no. Once idle
// they report again and may be asked.
TEST(MemoryBudget, ABusyOperatorIsNotAskedUntilItReportsIdle) {
  Fleet fleet(8 * kMiB);
  const common::TimePoint at{seconds(5)};
  fleet.budget.report(&fleet.tags[0], 4 * kMiB, {.lastActive = at - seconds(4), .busy = true}, at);
  fleet.budget.report(&fleet.tags[1], 6 * kMiB, {.lastActive = at, .busy = true}, at);
  EXPECT_TRUE(fleet.asked.empty()) << "over, but everyone is busy";
  EXPECT_FALSE(fleet.budget.catchingUp());
  fleet.budget.report(&fleet.tags[0], 4 * kMiB, {.lastActive = at - seconds(4)}, at);
  EXPECT_TRUE(fleet.asked.empty()) << "idle now, but due soonest of those that could go";
  fleet.budget.report(&fleet.tags[1], 6 * kMiB, {.lastActive = at, .busy = true}, at);
  EXPECT_EQ(fleet.asked, std::vector<std::string>{"op0"});
}

TEST(MemoryBudget, AnOperatorAskedIsNotAskedAgainUntilItReportsBack) {
  Fleet fleet(6 * kMiB);
  fleet.report(0, 4 * kMiB, 1);
  fleet.report(1, 4 * kMiB, 2);  // asks op0
  fleet.report(1, 4 * kMiB, 3);  // op0 still on its way out: not asked twice
  EXPECT_EQ(fleet.asked, std::vector<std::string>{"op0"});
  fleet.report(0, 0, 1);  // swapped out
  EXPECT_EQ(fleet.budget.residentBytes(), 4 * kMiB);
  fleet.report(0, 4 * kMiB, 5);  // restored and busy: now op1 is the older
  EXPECT_EQ(fleet.asked, (std::vector<std::string>{"op0", "op1"}));
}

TEST(MemoryBudget, AnAskedOperatorThatStayedResidentMayBeAskedAgain) {
  Fleet fleet(6 * kMiB);
  fleet.report(0, 4 * kMiB, 1);
  fleet.report(1, 4 * kMiB, 2);  // asks op0
  fleet.report(0, 4 * kMiB, 1);  // op0 could not go (calls in flight): still over, op1 is asked
  fleet.report(1, 4 * kMiB, 3);  // op1 busy, still resident: op0 is asked again
  EXPECT_EQ(fleet.asked, (std::vector<std::string>{"op0", "op1", "op0"}));
}

TEST(MemoryBudget, AForgottenOperatorNoLongerCounts) {
  Fleet fleet(6 * kMiB);
  fleet.report(0, 4 * kMiB, 1);
  fleet.budget.forget(&fleet.tags[0]);
  fleet.report(1, 4 * kMiB, 2);
  EXPECT_TRUE(fleet.asked.empty());
  EXPECT_EQ(fleet.budget.residentBytes(), 4 * kMiB);
}

}  // namespace
}  // namespace wop::runtime
