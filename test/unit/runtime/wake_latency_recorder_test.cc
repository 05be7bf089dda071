#include "runtime/wake_latency_recorder.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace wop::runtime {
namespace {

// Observations at or under the first bound at or above ms.
uint64_t countUpTo(const common::Histogram::Snapshot& snapshot, double ms) {
  const auto it = std::lower_bound(snapshot.upperBounds.begin(), snapshot.upperBounds.end(),
                                   ms / 1000 * (1 - 1e-12));
  return snapshot.cumulativeCounts.at(static_cast<size_t>(it - snapshot.upperBounds.begin()));
}

TEST(WakeLatencyRecorderTest, KeepsEachWakeKindApartInSeconds) {
  WakeLatencyRecorder recorder;
  EXPECT_TRUE(recorder.wantsLatency()) << "else the operators stamp nothing";
  recorder.changeReconciled(0.4, WakeKind::kResident);
  recorder.changeReconciled(0.4, WakeKind::kResident);
  recorder.changeReconciled(1.5, WakeKind::kSwapped);

  const auto resident = recorder.snapshot(WakeKind::kResident);
  EXPECT_EQ(resident.count, 2u);
  EXPECT_EQ(countUpTo(resident, 0.38), 0u);
  EXPECT_EQ(countUpTo(resident, 0.42), 2u) << "within one bucket (5%) of 0.4 ms";
  const auto restored = recorder.snapshot(WakeKind::kSwapped);
  EXPECT_EQ(restored.count, 1u);
  EXPECT_EQ(countUpTo(restored, 1.4), 0u);
  EXPECT_EQ(countUpTo(restored, 1.6), 1u);
  EXPECT_EQ(recorder.snapshot(WakeKind::kPrefetched).count, 0u);
  EXPECT_EQ(recorder.startedSnapshot(WakeKind::kResident).count, 0u) << "kept apart from returns";
}

TEST(WakeLatencyRecorderTest, KeepsTheWorkerAndTheStartOfEachReconcileApartFromItsReturn) {
  WakeLatencyRecorder recorder;
  recorder.changeToWorker(0.05, WakeKind::kPrefetched);
  recorder.changeToReconcile(0.1, WakeKind::kPrefetched);
  recorder.changeReconciled(0.4, WakeKind::kPrefetched);

  const auto worker = recorder.workerSnapshot(WakeKind::kPrefetched);
  EXPECT_EQ(worker.count, 1u);
  EXPECT_EQ(countUpTo(worker, 0.045), 0u);
  EXPECT_EQ(countUpTo(worker, 0.055), 1u);

  const auto started = recorder.startedSnapshot(WakeKind::kPrefetched);
  EXPECT_EQ(started.count, 1u);
  EXPECT_EQ(countUpTo(started, 0.11), 1u);
  const auto returned = recorder.snapshot(WakeKind::kPrefetched);
  EXPECT_EQ(returned.count, 1u);
  EXPECT_EQ(countUpTo(returned, 0.38), 0u);
  EXPECT_EQ(recorder.startedSnapshot(WakeKind::kResident).count, 0u);
}

}  // namespace
}  // namespace wop::runtime
