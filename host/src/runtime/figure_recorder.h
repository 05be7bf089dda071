// An OperatorObserver that keeps figures for benchmarks and tests: change-to-reconcile delays
// (to the worker's slice, to the reconcile's start, and to its end) by wake kind, and swap-out and
// restore durations. Bounded: at most a million samples each.
//
// Thread-safety: all methods, from any thread.
#pragma once

#include <mutex>
#include <vector>

#include "runtime/operator_environment.h"

namespace wop::runtime {

class FigureRecorder final : public OperatorObserver {
 public:
  bool wantsLatency() const override { return true; }
  void changeToWorker(double ms, WakeKind kind) override;
  void changeToReconcile(double ms, WakeKind kind) override;
  void changeReconciled(double ms, WakeKind kind) override;
  void swapped(SwapEvent event, double ms) override;

  // Samples (ms) since the last take, of every kind or of one.
  std::vector<double> takeLatencySamples();
  std::vector<double> takeLatencySamples(WakeKind kind);
  // To the start of the worker's slice that ran it, of one kind.
  std::vector<double> takeWorkerSamples(WakeKind kind);
  // To the return of the reconcile entry, of one kind.
  std::vector<double> takeReconciledSamples(WakeKind kind);
  std::vector<double> takeSwapSamples(SwapEvent event);

 private:
  struct LatencySample {
    double ms;
    WakeKind kind;
  };
  static std::vector<double> takeOfKind(std::vector<LatencySample>& samples, WakeKind kind);

  std::mutex mutex_;
  std::vector<LatencySample> worker_;
  std::vector<LatencySample> latency_;
  std::vector<LatencySample> reconciled_;
  std::vector<double> swapOutMs_;
  std::vector<double> restoreMs_;
};

}  // namespace wop::runtime
