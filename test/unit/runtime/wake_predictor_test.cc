#include "runtime/wake_predictor.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>

namespace wop::runtime {
namespace {

using namespace std::chrono_literals;
using TimePoint = WakePredictor::TimePoint;

const TimePoint kStart = TimePoint(1000s);

// Wakes every period, with a small deterministic jitter, starting at kStart; returns the last.
TimePoint wakeEvery(WakePredictor& predictor, std::chrono::milliseconds period, int count,
                    TimePoint from = kStart) {
  TimePoint at = from;
  for (int i = 0; i < count; ++i) {
    at += period + std::chrono::milliseconds((i % 3) * 20 - 20);  // -20, 0, +20 ms
    predictor.recordWake(at);
  }
  return at;
}

TEST(WakePredictorTest, KnowsNothingBeforeItHasSeenAPattern) {
  WakePredictor predictor;
  EXPECT_EQ(predictor.prefetchAt(), std::nullopt);
  predictor.recordWake(kStart);
  predictor.recordWake(kStart + 5s);
  EXPECT_EQ(predictor.prefetchAt(), std::nullopt) << "one interval is no pattern";
  EXPECT_FALSE(predictor.shouldSwapOut(kStart + 5s, kStart + 6s)) << "idle for less than idleAfter";
  EXPECT_TRUE(predictor.shouldSwapOut(kStart + 5s, kStart + 7s));
}

// The memory budget's eviction order wants a guess even where a prefetch would be a gamble.
TEST(WakePredictorTest, ExpectsTheNextWakeOneIntervalOnEvenWhenNotConfident) {
  WakePredictor predictor;
  predictor.recordWake(kStart);
  EXPECT_EQ(predictor.expectedWake(), std::nullopt) << "no interval yet";
  predictor.recordWake(kStart + 4s);
  ASSERT_FALSE(predictor.confident());
  EXPECT_EQ(predictor.expectedWake(), kStart + 8s);
  const TimePoint last = wakeEvery(predictor, 4000ms, 20, kStart + 4s);
  ASSERT_TRUE(predictor.confident());
  EXPECT_EQ(predictor.expectedWake(), predictor.predictedWake());
  EXPECT_NEAR(std::chrono::duration<double>(*predictor.expectedWake() - last).count(), 4, 0.05);
}

TEST(WakePredictorTest, PeriodicWakesPrefetchJustBeforeTheNext) {
  WakePredictor predictor;
  const TimePoint last = wakeEvery(predictor, 5000ms, 20);
  ASSERT_TRUE(predictor.confident());
  const auto prefetch = predictor.prefetchAt();
  ASSERT_TRUE(prefetch);
  const TimePoint next = last + 5s;
  EXPECT_LT(*prefetch, next - 40ms) << "leaves at least the lead (50 ms, less rounding)";
  EXPECT_GT(*prefetch, next - 300ms) << "but not much more with 20 ms of jitter";
}

TEST(WakePredictorTest, PeriodicWakesSwapOutBetweenAndStayResidentNearTheNext) {
  WakePredictor predictor;
  const TimePoint last = wakeEvery(predictor, 5000ms, 20);
  EXPECT_TRUE(predictor.shouldSwapOut(last, last + 2s)) << "idle 2 s, next wake 3 s away";
  EXPECT_FALSE(predictor.shouldSwapOut(last, last + 5s - 10ms)) << "next wake is due";
  const auto windowEnd =
      *predictor.predictedWake() + (*predictor.predictedWake() - *predictor.prefetchAt());
  EXPECT_NEAR((predictor.swapOutCheckAt(last, last + 5s - 10ms) - windowEnd).count(), 0, 10)
      << "ask again when the prediction window closes";
  EXPECT_TRUE(predictor.shouldSwapOut(last, last + 6s)) << "a missed prediction frees it";
}

TEST(WakePredictorTest, AnExtraWakeDoesNotShiftThePeriodicPrediction) {
  WakePredictor predictor;
  const TimePoint last = wakeEvery(predictor, 5000ms, 20);
  const auto before = predictor.predictedWake();
  predictor.recordWake(last + 200ms);  // the traces have these: an event 0.2 s after another
  EXPECT_EQ(predictor.predictedWake(), before);
  predictor.recordWake(*before + 30ms);
  EXPECT_TRUE(predictor.confident());
  EXPECT_NEAR(std::chrono::duration<double>(predictor.interval()).count(), 5.0, 0.05);
}

TEST(WakePredictorTest, IrregularWakesGiveNoConfidentPrefetch) {
  WakePredictor predictor;
  std::mt19937 random(42);
  std::exponential_distribution<double> poisson(1.0 / 5.0);  // mean 5 s
  TimePoint at = kStart;
  for (int i = 0; i < 200; ++i) {
    at += std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(poisson(random)));
    predictor.recordWake(at);
    EXPECT_EQ(predictor.prefetchAt(), std::nullopt) << "after wake " << i;
  }
}

TEST(WakePredictorTest, BurstyWakesGiveNoConfidentPrefetch) {
  WakePredictor predictor;
  TimePoint at = kStart;
  for (int burst = 0; burst < 30; ++burst) {
    at += std::chrono::seconds(3 + (burst * 7) % 11);
    for (int i = 0; i < 1 + burst % 4; ++i) {
      at += 150ms;
      predictor.recordWake(at);
    }
    EXPECT_EQ(predictor.prefetchAt(), std::nullopt) << "after burst " << burst;
  }
}

TEST(WakePredictorTest, VeryFrequentWakesKeepTheOperatorResident) {
  WakePredictor predictor;
  TimePoint at = kStart;
  for (int i = 0; i < 40; ++i) {  // about every 1.5 s, sometimes 2.5 s
    at += i % 5 == 4 ? 2500ms : 1250ms;
    predictor.recordWake(at);
  }
  EXPECT_FALSE(predictor.shouldSwapOut(at, at + 2s)) << "a 2.5 s gap is no reason to swap";
  EXPECT_FALSE(predictor.shouldSwapOut(at - 10s, at + 1s)) << "even if idleSince was long ago";
}

TEST(WakePredictorTest, WakesJustAboveIdleAfterDoNotPayASwap) {
  WakePredictor predictor;
  const TimePoint last = wakeEvery(predictor, 2100ms, 30);
  EXPECT_FALSE(predictor.shouldSwapOut(last, last + 2s))
      << "it would be out 100 ms, less than the break-even of 100 restore costs";
}

TEST(WakePredictorTest, ALongSilenceReturnsToSwapping) {
  WakePredictor predictor;
  const TimePoint last = wakeEvery(predictor, 1000ms, 30);
  ASSERT_FALSE(predictor.shouldSwapOut(last, last + 2s));
  const TimePoint checkAt = predictor.swapOutCheckAt(last, last + 2s);
  EXPECT_GT(checkAt, last + 2s);
  EXPECT_LE(checkAt, last + 3100ms) << "interval + idleAfter";
  EXPECT_TRUE(predictor.shouldSwapOut(last, checkAt));
  EXPECT_TRUE(predictor.shouldSwapOut(last, last + 60s));
}

TEST(WakePredictorTest, ANewPeriodIsLearntAfterAFewOutliers) {
  WakePredictor predictor;
  TimePoint last = wakeEvery(predictor, 5000ms, 20);
  last = wakeEvery(predictor, 20000ms, 3, last);
  EXPECT_FALSE(predictor.confident()) << "the old pattern is forgotten";
  last = wakeEvery(predictor, 20000ms, 3, last);
  ASSERT_TRUE(predictor.confident());
  EXPECT_NEAR(std::chrono::duration<double>(predictor.interval()).count(), 20.0, 0.1);
  EXPECT_TRUE(predictor.shouldSwapOut(last, last + 2s));
}

TEST(WakePredictorTest, OneLateWakeRephasesWithoutForgetting) {
  WakePredictor predictor;
  TimePoint last = wakeEvery(predictor, 5000ms, 20);
  last += 21s;  // missed wakes, as in the traces
  predictor.recordWake(last);
  ASSERT_TRUE(predictor.confident());
  EXPECT_NEAR(std::chrono::duration<double>(*predictor.predictedWake() - last).count(), 5.0, 0.05);
}

WakePredictorOptions settling(std::chrono::milliseconds settleAfter) {
  WakePredictorOptions options;
  options.settleAfter = settleAfter;
  return options;
}

TEST(WakePredictorTest, WithoutSettleAfterAConfidentlyFarWakeStillWaitsIdleAfter) {
  WakePredictor predictor;
  const TimePoint last = wakeEvery(predictor, 5000ms, 20);
  ASSERT_TRUE(predictor.confident());
  EXPECT_FALSE(predictor.shouldSwapOut(last, last + 300ms));
  EXPECT_EQ(predictor.swapOutCheckAt(last, last + 300ms), last + 2s);
}

TEST(WakePredictorTest, SettledAndTheNextWakeConfidentlyFarSwapsOutEarly) {
  WakePredictor predictor(settling(250ms));
  const TimePoint last = wakeEvery(predictor, 5000ms, 20);
  ASSERT_TRUE(predictor.confident());
  EXPECT_FALSE(predictor.shouldSwapOut(last, last + 100ms)) << "not settled yet";
  EXPECT_EQ(predictor.swapOutCheckAt(last, last + 100ms), last + 250ms) << "ask again once settled";
  EXPECT_TRUE(predictor.shouldSwapOut(last, last + 250ms)) << "4.7 s before the next wake";
  EXPECT_FALSE(predictor.shouldSwapOut(last, last + 5s - 10ms)) << "but not when it is due";
}

TEST(WakePredictorTest, SettleAfterSwapsOutWakesTooFrequentForIdleAfter) {
  WakePredictor predictor(settling(250ms));
  const TimePoint last = wakeEvery(predictor, 1250ms, 30);
  WakePredictor idleOnly;
  wakeEvery(idleOnly, 1250ms, 30);
  EXPECT_FALSE(idleOnly.shouldSwapOut(last, last + 2s)) << "idleAfter alone: kept resident";
  EXPECT_TRUE(predictor.shouldSwapOut(last, last + 250ms))
      << "out for about 0.9 s until the prefetch: more than the break-even of 0.2 s";
}

TEST(WakePredictorTest, SettleAfterWaitsIdleAfterWhenOutWouldBeShorterThanBreakEven) {
  WakePredictor predictor(settling(250ms));
  const TimePoint last = wakeEvery(predictor, 450ms, 30);
  ASSERT_TRUE(predictor.confident());
  EXPECT_FALSE(predictor.shouldSwapOut(last, last + 250ms)) << "the prefetch is under 0.2 s away";
}

TEST(WakePredictorTest, SettleAfterNeedsAConfidentPrediction) {
  WakePredictor predictor(settling(250ms));
  WakePredictor idleOnly;
  std::mt19937 random(7);
  std::exponential_distribution<double> gap(1.0 / 5.0);  // Poisson, mean 5 s
  TimePoint at = kStart;
  for (int i = 0; i < 50; ++i) {
    at += std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(gap(random)));
    predictor.recordWake(at);
    idleOnly.recordWake(at);
  }
  ASSERT_FALSE(predictor.confident());
  EXPECT_FALSE(predictor.shouldSwapOut(at, at + 250ms));
  for (auto idle : {250ms, 2000ms, 10000ms, 60000ms}) {
    EXPECT_EQ(predictor.shouldSwapOut(at, at + idle), idleOnly.shouldSwapOut(at, at + idle))
        << "as without settleAfter, idle " << idle.count() << " ms";
  }
}

TEST(WakePredictorTest, SettleAfterFallsBackToIdleAfterOnceThePredictedWakeIsOverdue) {
  WakePredictor predictor(settling(250ms));
  const TimePoint last = wakeEvery(predictor, 5000ms, 20);
  const TimePoint late = last + 5500ms;  // idle since the predicted wake that did not come
  EXPECT_FALSE(predictor.shouldSwapOut(late, late + 250ms));
  EXPECT_TRUE(predictor.shouldSwapOut(late, late + 2s));
}

TEST(WakePredictorTest, StaysSmallEnoughToKeepForEverySwappedOutOperator) {
  EXPECT_LE(sizeof(WakePredictor), 128u);
}

}  // namespace
}  // namespace wop::runtime
