// Learns when an operator is next woken (an event passed its filters, a requeue timer fired), so
// that the runtime can restore it from its snapshot just before, and keep it resident when it is
// woken too often for swapping to pay. Issue 5, "Prediction"; docs/prediction.md has the model,
// the choice of parameters and the trace replay that measured them.
//
// Model: simple exponential smoothing (SES, as in the prototype) of the interval between
// wake-ups that fit the pattern, with a smoothed mean absolute deviation beside it (the way TCP
// estimates round-trip time). The next wake is predicted one smoothed interval after the last
// wake that fitted ("the anchor"). A wake far off the prediction is an outlier: an early one
// (an extra event in a periodic stream) leaves the anchor, so the periodic wake after it is
// still predicted; a late one (missed events, a silence) moves the anchor to it. Several
// outliers in a row mean the pattern changed: the model forgets and learns again.
//
// Pure logic: no I/O, no clock, no threads; the caller passes the time. O(1) per call, fixed
// size (no history buffer: the smoothing factor is derived from options.history), so one stays
// resident for every swapped-out operator.
//
// Thread-safety: none; the owner (the operator's runtime entry) serialises calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace wop::runtime {

struct WakePredictorOptions {
  // Swap out after this long with no work, prediction or not: work often comes in bursts (an
  // operator's own write coming back as an event, a requeue), and an operator that was just
  // woken is the likeliest to be woken again.
  std::chrono::milliseconds idleAfter{2000};
  // The least head start of a prefetch: restore this long before a predicted wake, or earlier
  // when the pattern is noisy (kWindow deviations). Covers the restore itself (target under
  // 1 ms, the prototype's 9-195 ms), the timer's slack on a busy host and a cold page cache.
  std::chrono::milliseconds lead{50};
  // What one restore plus one swap-out costs the host. Swapping out pays only if the operator
  // then stays out at least breakEvenRatio times this long; a shorter stay is kept resident.
  std::chrono::microseconds restoreCost{2000};
  double breakEvenRatio = 100;
  // Early swap-out: when the model is confident and its next predicted wake (less the prefetch
  // window) is more than break-even away, swap out after this much idle time instead of
  // idleAfter; the prefetch brings the operator back. Zero: off (only idleAfter). Idle time
  // spent waiting for a confidently distant wake is memory held for nothing; settleAfter still
  // lets a burst (an operator's own write coming back, a requeue) find it resident.
  std::chrono::milliseconds settleAfter{0};
  // How many wake-ups the smoothing remembers: the smoothing factor is 2 / (history + 1), the
  // exponential average whose centre of mass matches a moving window of history samples (the
  // prototype fitted SES over its last 50 wake-ups).
  size_t history = 50;
};

class WakePredictor {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit WakePredictor(WakePredictorOptions options = {});

  // Work arrived for the operator (an event passed its filters, or a requeue timer fired).
  // Calls must come in time order; an earlier time than the last is ignored.
  void recordWake(TimePoint at);

  // When to restore ahead of the next predicted wake; nullopt while not confident. The time
  // may be past (the predicted wake is overdue, or nearer than the lead): a caller arms a
  // prefetch timer only for a future time, so an overdue prediction costs nothing.
  std::optional<TimePoint> prefetchAt() const;

  // May the operator, idle since idleSince, be swapped out at now? False while wake-ups come too
  // often for swapping to pay, or a predicted wake is near. With settleAfter, true already after
  // settleAfter of idle time when the next predicted wake is confidently far (earlySwapOutAt).
  bool shouldSwapOut(TimePoint idleSince, TimePoint now) const;

  // The earliest time, not before now, at which shouldSwapOut(idleSince, .) turns true if no
  // wake comes meanwhile: when a caller told "not yet" should ask again.
  TimePoint swapOutCheckAt(TimePoint idleSince, TimePoint now) const;

  // Observers, for metrics and tests.
  bool confident() const;
  // The smoothed interval and its mean absolute deviation; zero before two wakes.
  std::chrono::nanoseconds interval() const;
  std::chrono::nanoseconds deviation() const;
  // When the next wake is predicted (nullopt while not confident).
  std::optional<TimePoint> predictedWake() const;
  // A best guess of the next wake, confident or not: the prediction, else one smoothed
  // interval after the last wake; nullopt before two wakes. What the memory budget orders its
  // evictions by, where any guess beats recency (a noisy ring is still a ring).
  std::optional<TimePoint> expectedWake() const;

  // Prefetch window: restore max(lead, kWindow deviations) before the predicted wake.
  static constexpr double kWindow = 4;
  // An interval off the smoothed one by more than max(kOutlierDeviations deviations,
  // kOutlierFraction of the interval) is an outlier, not part of the pattern.
  static constexpr double kOutlierDeviations = 8;
  static constexpr double kOutlierFraction = 0.25;
  // Intervals (after an anchor) before the model is trusted, the largest relative deviation it
  // trusts (a Poisson stream has a mean absolute deviation of 0.74 times its mean), and the
  // largest share of outlier wakes (smoothed like the interval): bursts are no pattern.
  static constexpr uint32_t kMinIntervals = 3;
  static constexpr double kMaxRelativeDeviation = 0.25;
  static constexpr double kMaxOutlierRate = 0.2;
  // Outliers in a row after which the pattern is taken to have changed, and learnt again.
  static constexpr uint32_t kRelearnAfter = 3;

 private:
  using Seconds = std::chrono::duration<double>;

  void learn(double intervalSeconds);
  void countOutlier(bool outlier);
  void relearn(TimePoint at);
  double outlierTolerance() const;
  double windowSeconds() const;
  bool keepsResident(TimePoint now) const;
  std::optional<TimePoint> earlySwapOutAt(TimePoint idleSince, TimePoint now) const;
  bool predictedWakeNear(TimePoint now) const;
  TimePoint overdueAt() const;
  TimePoint windowEnd() const;

  WakePredictorOptions options_;
  double alpha_;
  TimePoint lastWake_{};    // the last wake, outlier or not
  TimePoint anchor_{};      // the last wake that fitted the pattern: predictions count from it
  double interval_ = 0;     // smoothed interval, seconds
  double deviation_ = 0;    // smoothed |interval - prediction|, seconds
  double outlierRate_ = 0;  // smoothed share of wakes that were outliers
  uint32_t wakes_ = 0;      // wakes since the model was (re)started, saturating
  uint32_t intervals_ = 0;  // intervals learnt since then, saturating
  uint32_t outliers_ = 0;   // outliers in a row
};

}  // namespace wop::runtime
