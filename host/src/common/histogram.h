// A Prometheus-style histogram: fixed upper bounds, a count per bucket and a sum, kept with
// relaxed atomics so a hot path observes without a lock and a scrape reads without stopping it.
// A snapshot taken during observations may be off by the observations in flight (as Prometheus'
// own clients are); it never reads torn values.
//
// Thread-safety: observe() and snapshot() from any thread. Not copyable (atomics).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace wop::common {

class Histogram {
 public:
  // upperBounds: strictly increasing, finite; +Inf is implicit.
  explicit Histogram(std::span<const double> upperBounds);

  void observe(double value);

  struct Snapshot {
    std::vector<double> upperBounds;
    std::vector<uint64_t> cumulativeCounts;  // one per upper bound: observations <= it
    uint64_t count = 0;                      // all observations (the +Inf bucket)
    double sum = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> upperBounds_;
  // One more than the bounds: the last counts observations above every bound.
  const std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// controller-runtime's controller_runtime_reconcile_time_seconds buckets (5 ms .. 60 s).
std::span<const double> reconcileTimeBuckets();
// client-go's workqueue duration buckets as controller-runtime registers them: 10 ns .. 10 s,
// a factor of 10 apart.
std::span<const double> workQueueDurationBuckets();
// Ours, for swap-outs and restores: 10 us .. 5 s in 1-2.5-5 steps.
std::span<const double> swapDurationBuckets();
// Ours, for benchmarks' quantiles: 10 us .. about 10 s, each bound 5% above the last, so a
// quantile read from the counts is within 5% of the true one.
std::span<const double> fineLatencyBuckets();

}  // namespace wop::common
