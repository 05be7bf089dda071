#include "runtime/figure_recorder.h"

#include <utility>

namespace wop::runtime {
namespace {

constexpr size_t kMaxSamples = 1'000'000;

}  // namespace

void FigureRecorder::changeToWorker(double ms, WakeKind kind) {
  std::lock_guard lock(mutex_);
  if (worker_.size() < kMaxSamples) worker_.push_back({ms, kind});
}

void FigureRecorder::changeToReconcile(double ms, WakeKind kind) {
  std::lock_guard lock(mutex_);
  if (latency_.size() < kMaxSamples) latency_.push_back({ms, kind});
}

void FigureRecorder::changeReconciled(double ms, WakeKind kind) {
  std::lock_guard lock(mutex_);
  if (reconciled_.size() < kMaxSamples) reconciled_.push_back({ms, kind});
}

void FigureRecorder::swapped(SwapEvent event, double ms) {
  std::lock_guard lock(mutex_);
  auto& samples = event == SwapEvent::kSwapOut ? swapOutMs_ : restoreMs_;
  if (samples.size() < kMaxSamples) samples.push_back(ms);
}

std::vector<double> FigureRecorder::takeLatencySamples() {
  std::lock_guard lock(mutex_);
  std::vector<double> out;
  for (const auto& sample : latency_) out.push_back(sample.ms);
  latency_.clear();
  return out;
}

std::vector<double> FigureRecorder::takeLatencySamples(WakeKind kind) {
  std::lock_guard lock(mutex_);
  return takeOfKind(latency_, kind);
}

std::vector<double> FigureRecorder::takeWorkerSamples(WakeKind kind) {
  std::lock_guard lock(mutex_);
  return takeOfKind(worker_, kind);
}

std::vector<double> FigureRecorder::takeReconciledSamples(WakeKind kind) {
  std::lock_guard lock(mutex_);
  return takeOfKind(reconciled_, kind);
}

std::vector<double> FigureRecorder::takeOfKind(std::vector<LatencySample>& samples, WakeKind kind) {
  std::vector<double> out;
  std::erase_if(samples, [&](const LatencySample& sample) {
    if (sample.kind != kind) return false;
    out.push_back(sample.ms);
    return true;
  });
  return out;
}

std::vector<double> FigureRecorder::takeSwapSamples(SwapEvent event) {
  std::lock_guard lock(mutex_);
  return std::exchange(event == SwapEvent::kSwapOut ? swapOutMs_ : restoreMs_, {});
}

}  // namespace wop::runtime
