#include "runtime/wake_latency_recorder.h"

namespace wop::runtime {

template <typename Self>
auto& WakeLatencyRecorder::of(Self& self, WakeKind kind) {
  switch (kind) {
    case WakeKind::kSwapped:
      return self.restored_;
    case WakeKind::kPrefetched:
      return self.prefetched_;
    case WakeKind::kResident:
      break;
  }
  return self.resident_;
}

void WakeLatencyRecorder::changeToWorker(double ms, WakeKind kind) {
  of(*this, kind).toWorker.observe(ms / 1000);
}

void WakeLatencyRecorder::changeToReconcile(double ms, WakeKind kind) {
  of(*this, kind).toStart.observe(ms / 1000);
}

void WakeLatencyRecorder::changeReconciled(double ms, WakeKind kind) {
  of(*this, kind).toReturn.observe(ms / 1000);
}

common::Histogram::Snapshot WakeLatencyRecorder::snapshot(WakeKind kind) const {
  return of(*this, kind).toReturn.snapshot();
}

common::Histogram::Snapshot WakeLatencyRecorder::startedSnapshot(WakeKind kind) const {
  return of(*this, kind).toStart.snapshot();
}

common::Histogram::Snapshot WakeLatencyRecorder::workerSnapshot(WakeKind kind) const {
  return of(*this, kind).toWorker.snapshot();
}

}  // namespace wop::runtime
