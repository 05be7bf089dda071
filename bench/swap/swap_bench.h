// Shared pieces of the swap benchmark (swap_bench.cc: snapshot timings without a control plane;
// swap_cluster.cc: latency, host memory and the live trace replay against one). Run by
// bench/swap/run.py.
#pragma once

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace wop::bench::swap {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

struct Args {
  std::string mode, kubeconfig, wasmDir, sourceDir, artifacts, snapshotDir;
  std::string sizes = "1,2,5,10,25,50,87";
  std::string operatorWasm;  // restore: the fleet operator's module, for map + first reconcile
  int saves = 20;            // full saves per size (each followed by `restores` restores)
  int restores = 10;
  int coldRestores = 5;  // restore: samples with the page cache dropped before each
  int reps = 40;         // delta swap-outs per dirty size and pattern
  int changes = 200;     // latency: changes per setup
  int operators = 100;   // memory: operators loaded
  int active = 0;        // memory: operators with changes flowing
  int idleMs = 50;
  int periodMs = 1000;  // prefetched latency: period between changes
  bool swap = true, predict = false;
  bool sharedNamespace = false;  // memory: all operators watch one namespace (one informer)
  int marginal = 0;              // memory: operators added after the first sample
  // replay: a trace (trace.h) replayed live; its gaps and the idle period divided by speedup
  std::string trace;
  double speedup = 1;
  int events = 0;                  // the first N events (0: all)
  std::string policy = "predict";  // none | predict | always
};

inline double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

inline double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index =
      std::min(values.size() - 1, static_cast<size_t>(p * (values.size() - 1) + 0.5));
  return values[index];
}

// {"n", "p50", "p99", "min", "max", "mean"} of samples in ms.
inline Json summary(const std::vector<double>& samples) {
  double sum = 0;
  for (double v : samples) sum += v;
  return {{"n", samples.size()},
          {"p50", percentile(samples, 0.5)},
          {"p99", percentile(samples, 0.99)},
          {"min", percentile(samples, 0)},
          {"max", percentile(samples, 1)},
          {"mean", samples.empty() ? 0 : sum / static_cast<double>(samples.size())}};
}

Json benchSizes(const Args& args);
Json benchRestore(const Args& args);  // restore_bench.cc
Json benchDirty(const Args& args);
Json benchLatency(const Args& args);
Json benchMemory(const Args& args);
Json benchReplay(const Args& args);

}  // namespace wop::bench::swap
