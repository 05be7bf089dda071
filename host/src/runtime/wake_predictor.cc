#include "runtime/wake_predictor.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace wop::runtime {
namespace {

using Seconds = std::chrono::duration<double>;

double seconds(std::chrono::nanoseconds d) { return Seconds(d).count(); }

std::chrono::nanoseconds toNanos(double s) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Seconds(s));
}

void saturatingIncrement(uint32_t& count) {
  if (count < std::numeric_limits<uint32_t>::max()) ++count;
}

}  // namespace

WakePredictor::WakePredictor(WakePredictorOptions options)
    : options_(options),
      alpha_(2.0 / (static_cast<double>(std::max<size_t>(options.history, 1)) + 1)) {}

void WakePredictor::recordWake(TimePoint at) {
  if (wakes_ == 0) {
    lastWake_ = anchor_ = at;
    wakes_ = 1;
    return;
  }
  if (at < lastWake_) return;
  saturatingIncrement(wakes_);
  const double sinceAnchor = seconds(at - anchor_);
  if (intervals_ == 0) {
    interval_ = sinceAnchor;
    deviation_ = 0;
    intervals_ = 1;
    anchor_ = at;
  } else if (std::abs(sinceAnchor - interval_) <= outlierTolerance()) {
    countOutlier(false);
    learn(sinceAnchor);
    anchor_ = at;
    outliers_ = 0;
  } else {
    countOutlier(true);
    saturatingIncrement(outliers_);
    // An early outlier is an extra wake in the stream: the periodic one is still due, so the
    // anchor stays. A late one (missed wakes, a silence) re-phases the stream.
    if (sinceAnchor > interval_) anchor_ = at;
    if (outliers_ >= kRelearnAfter) relearn(at);
  }
  lastWake_ = at;
}

void WakePredictor::learn(double intervalSeconds) {
  // While fewer samples than the history have been seen, a plain running mean (1/n) instead of
  // the exponential one: the first samples are not drowned by the starting value.
  const double error = std::abs(intervalSeconds - interval_);
  const double meanWeight = std::max(alpha_, 1.0 / (intervals_ + 1.0));
  const double deviationWeight = std::max(alpha_, 1.0 / intervals_);
  interval_ += meanWeight * (intervalSeconds - interval_);
  deviation_ += deviationWeight * (error - deviation_);
  saturatingIncrement(intervals_);
}

void WakePredictor::countOutlier(bool outlier) {
  // wakes_ >= 2 here: the first wake has no interval to judge.
  const double weight = std::max(alpha_, 1.0 / (wakes_ - 1.0));
  outlierRate_ += weight * ((outlier ? 1.0 : 0.0) - outlierRate_);
}

void WakePredictor::relearn(TimePoint at) {
  // The pattern changed: start again from the latest interval.
  interval_ = seconds(at - lastWake_);
  deviation_ = 0;
  intervals_ = 1;
  outliers_ = 0;
  anchor_ = at;
}

double WakePredictor::outlierTolerance() const {
  return std::max(kOutlierDeviations * deviation_, kOutlierFraction * interval_);
}

double WakePredictor::windowSeconds() const {
  return std::max(seconds(options_.lead), kWindow * deviation_);
}

bool WakePredictor::confident() const {
  return intervals_ >= kMinIntervals && interval_ > 0 &&
         deviation_ <= kMaxRelativeDeviation * interval_ && outlierRate_ <= kMaxOutlierRate;
}

std::chrono::nanoseconds WakePredictor::interval() const { return toNanos(interval_); }
std::chrono::nanoseconds WakePredictor::deviation() const { return toNanos(deviation_); }

std::optional<WakePredictor::TimePoint> WakePredictor::predictedWake() const {
  if (!confident()) return std::nullopt;
  return anchor_ + toNanos(interval_);
}

std::optional<WakePredictor::TimePoint> WakePredictor::expectedWake() const {
  if (auto predicted = predictedWake()) return predicted;
  if (intervals_ == 0) return std::nullopt;
  return lastWake_ + toNanos(interval_);
}

std::optional<WakePredictor::TimePoint> WakePredictor::prefetchAt() const {
  if (!confident()) return std::nullopt;
  return anchor_ + toNanos(interval_ - windowSeconds());
}

WakePredictor::TimePoint WakePredictor::overdueAt() const {
  // A silence longer than the interval by more than the outlier tolerance, and by more than
  // idleAfter (what any operator is given before it is swapped out).
  return lastWake_ + toNanos(interval_ + std::max(outlierTolerance(), seconds(options_.idleAfter)));
}

WakePredictor::TimePoint WakePredictor::windowEnd() const {
  return anchor_ + toNanos(interval_ + windowSeconds());
}

bool WakePredictor::keepsResident(TimePoint now) const {
  // Swapped out after idleAfter and restored (at the latest) a window before the next wake, the
  // operator would stay out interval - idleAfter - window: not worth a restore below break-even.
  // A silence well past the interval ends the verdict.
  if (intervals_ < kMinIntervals) return false;
  const double breakEven = options_.breakEvenRatio * seconds(options_.restoreCost);
  const double timeOut = interval_ - seconds(options_.idleAfter) - windowSeconds();
  return timeOut < breakEven && now < overdueAt();
}

bool WakePredictor::predictedWakeNear(TimePoint now) const {
  const auto prefetch = prefetchAt();
  if (!prefetch) return false;
  const auto breakEven = std::chrono::duration_cast<std::chrono::nanoseconds>(
      options_.restoreCost * options_.breakEvenRatio);
  return now >= *prefetch - breakEven && now < windowEnd();
}

std::optional<WakePredictor::TimePoint> WakePredictor::earlySwapOutAt(TimePoint idleSince,
                                                                      TimePoint now) const {
  // The earliest time, not before now, from which an early swap-out is allowed: settled, and
  // out from then until the prefetch for at least break-even. Nothing if that never holds
  // before the prefetch (then the idleAfter rules apply).
  if (options_.settleAfter <= std::chrono::milliseconds(0)) return std::nullopt;
  const auto prefetch = prefetchAt();
  if (!prefetch) return std::nullopt;
  const TimePoint at = std::max(now, idleSince + options_.settleAfter);
  const auto breakEven = std::chrono::duration_cast<std::chrono::nanoseconds>(
      options_.restoreCost * options_.breakEvenRatio);
  if (at < lastWake_ || *prefetch - at < breakEven) return std::nullopt;
  return at;
}

bool WakePredictor::shouldSwapOut(TimePoint idleSince, TimePoint now) const {
  if (const auto early = earlySwapOutAt(idleSince, now); early && *early <= now) return true;
  return now - idleSince >= options_.idleAfter && !keepsResident(now) && !predictedWakeNear(now);
}

WakePredictor::TimePoint WakePredictor::swapOutCheckAt(TimePoint idleSince, TimePoint now) const {
  if (const auto early = earlySwapOutAt(idleSince, now)) return *early;
  TimePoint at = std::max(now, idleSince + options_.idleAfter);
  // Each step jumps to the end of one "no" (keep resident until overdue, or the prediction
  // window), after which that reason no longer holds; two steps cover both.
  for (int step = 0; step < 3; ++step) {
    if (keepsResident(at)) {
      at = std::max(at, overdueAt());
    } else if (predictedWakeNear(at)) {
      at = std::max(at, windowEnd());
    } else {
      break;
    }
  }
  return at;
}

}  // namespace wop::runtime
