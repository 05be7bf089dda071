// The host's own part of each wake-up, by how the change found its operator (resident, restored
// on the way, or prefetched ahead of it): from the informer event that queued a key to the return
// of the reconcile entry it woke (whose API calls are issued, not yet sent: a guest that awaits
// one finishes the reconcile in a later entry, not counted here). Benchmarks read it from the
// status file (--status-file) to tell the host's latency apart from the API server's, which
// dominates and varies from run to run. Beside it, the same wake-ups up to the start of that
// reconcile: the rest is the entry itself (guest code, host calls, page faults), the part before
// it the wait for a worker and the slice's work before the entry (a restore on the way). And up
// to the start of the worker's slice that ran it, which tells those two apart. Histograms with fine
// buckets (common::fineLatencyBuckets): bounded memory, however long the run.
//
// Thread-safety: all methods, from any thread.
#pragma once

#include "common/histogram.h"
#include "runtime/operator_environment.h"

namespace wop::runtime {

class WakeLatencyRecorder final : public OperatorObserver {
 public:
  bool wantsLatency() const override { return true; }
  void changeToWorker(double ms, WakeKind kind) override;
  void changeToReconcile(double ms, WakeKind kind) override;
  void changeReconciled(double ms, WakeKind kind) override;

  // Seconds, cumulative since start: to the return of the reconcile entry, and to its start.
  common::Histogram::Snapshot snapshot(WakeKind kind) const;
  common::Histogram::Snapshot startedSnapshot(WakeKind kind) const;
  // To the start of the worker's slice that ran it.
  common::Histogram::Snapshot workerSnapshot(WakeKind kind) const;

 private:
  struct Stages {
    common::Histogram toWorker{common::fineLatencyBuckets()};
    common::Histogram toStart{common::fineLatencyBuckets()};
    common::Histogram toReturn{common::fineLatencyBuckets()};
  };
  template <typename Self>  // this recorder, const or not
  static auto& of(Self& self, WakeKind kind);

  Stages resident_;
  Stages restored_;
  Stages prefetched_;
};

}  // namespace wop::runtime
