#include "common/histogram.h"

#include <algorithm>
#include <array>

namespace wop::common {

Histogram::Histogram(std::span<const double> upperBounds)
    : upperBounds_(upperBounds.begin(), upperBounds.end()),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(upperBounds.size() + 1)) {}

void Histogram::observe(double value) {
  // The first bucket whose bound is >= value (Prometheus buckets are "less than or equal").
  const auto bucket = static_cast<size_t>(
      std::lower_bound(upperBounds_.begin(), upperBounds_.end(), value) - upperBounds_.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.upperBounds = upperBounds_;
  snapshot.cumulativeCounts.reserve(upperBounds_.size());
  uint64_t running = 0;
  for (size_t i = 0; i < upperBounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    snapshot.cumulativeCounts.push_back(running);
  }
  snapshot.count = running + counts_[upperBounds_.size()].load(std::memory_order_relaxed);
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

std::span<const double> reconcileTimeBuckets() {
  static constexpr std::array kBuckets{
      0.005, 0.01, 0.025, 0.05, 0.1,  0.15, 0.2,  0.25, 0.3,  0.35, 0.4,  0.45, 0.5, 0.6,
      0.7,   0.8,  0.9,   1.0,  1.25, 1.5,  1.75, 2.0,  2.5,  3.0,  3.5,  4.0,  4.5, 5.0,
      6.0,   7.0,  8.0,   9.0,  10.0, 15.0, 20.0, 25.0, 30.0, 40.0, 50.0, 60.0};
  return kBuckets;
}

std::span<const double> workQueueDurationBuckets() {
  static constexpr std::array kBuckets{1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0};
  return kBuckets;
}

std::span<const double> fineLatencyBuckets() {
  static const std::vector<double> kBuckets = [] {
    std::vector<double> bounds;
    for (double bound = 1e-5; bound < 10.0; bound *= 1.05) bounds.push_back(bound);
    return bounds;
  }();
  return kBuckets;
}

std::span<const double> swapDurationBuckets() {
  static constexpr std::array kBuckets{1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3,
                                       1e-2, 2.5e-2, 5e-2, 0.1,  0.25,   0.5,  1.0,  2.5,    5.0};
  return kBuckets;
}

}  // namespace wop::common
