// Replays event traces in virtual time against three swap policies and reports, for each trace x
// policy, what fraction of events found the operator resident, how many resident (memory-)
// seconds that cost, how many swap-outs and restores, and the latency restores added:
//
//   none       swap out after idleAfter without work; restore when an event comes
//   predict    runtime::WakePredictor decides swap-outs and restores ahead of predicted wakes
//   always     never swapped out
//
// A simulator, not a live replay: the operator does no work (a reconcile takes no time), a
// restore makes it ready after --restore-ms, and only the policy's decisions are modelled.
//
// Time scaling (--speedup S): the trace's gaps are divided by S. The policy's time constants
// (idleAfter, lead) and the swap costs are real durations and are NOT scaled by default, so a
// run with S > 1 answers "what if events came S times as often" -- which changes the regime
// (a 5 s trace at S = 10 wakes every 0.5 s, below idleAfter, and nothing is ever swapped).
// --scale-policy divides idleAfter and lead by S as well, which keeps the trace's regime;
// --scale-costs also divides the restore and swap-out costs, which makes the run exactly the
// unscaled one in time units S times smaller (a check of the simulator, nothing more). In
// virtual time nothing is gained by speeding up; S exists for parity with a live replay, and
// the honest figures are those at S = 1.
//
// Usage: replay_traces [--traces DIR | --trace FILE ...] [--speedup S] [--scale-policy]
//          [--scale-costs] [--memory-mib M] [--restore-ms R] [--swapout-ms W]
//          [--idle-after-ms I] [--lead-ms L] [--history H] [--format json|markdown]
// Prints a JSON array on stdout, one object per trace x policy.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/wake_predictor.h"
#include "swap/trace.h"

namespace {

using Json = nlohmann::json;
using Nanos = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;
using wop::runtime::WakePredictor;
using wop::runtime::WakePredictorOptions;

double seconds(Nanos d) { return std::chrono::duration<double>(d).count(); }
Nanos fromMs(double ms) {
  return std::chrono::duration_cast<Nanos>(std::chrono::duration<double, std::milli>(ms));
}

struct Args {
  std::vector<std::string> traces;
  double speedup = 1, memoryMib = 0.125, restoreMs = 1, swapoutMs = 1, idleAfterMs = 2000,
         leadMs = 50;
  size_t history = 50;
  bool scalePolicy = false, scaleCosts = false, markdown = false;
};

// The simulated durations, after scaling.
struct Setup {
  Nanos restore, idleAfter, lead, restoreCost;
  size_t history;
};

struct Result {
  int events = 0, foundResident = 0, swapOuts = 0, restores = 0, prefetches = 0,
      wastedPrefetches = 0;
  Nanos resident{0}, duration{0}, latency{0}, maxLatency{0};
};

// A policy answers two questions between events: when to swap a resident operator out (nullopt:
// not before the next event), and when to restore a swapped-out one ahead of time.
class Policy {
 public:
  virtual ~Policy() = default;
  virtual void onWake(TimePoint at) = 0;
  virtual std::optional<TimePoint> swapOutAt(TimePoint idleSince, TimePoint now) = 0;
  virtual std::optional<TimePoint> prefetchAt() = 0;
};

class NoPrediction final : public Policy {
 public:
  explicit NoPrediction(Nanos idleAfter) : idleAfter_(idleAfter) {}
  void onWake(TimePoint) override {}
  std::optional<TimePoint> swapOutAt(TimePoint idleSince, TimePoint now) override {
    return std::max(now, idleSince + idleAfter_);
  }
  std::optional<TimePoint> prefetchAt() override { return std::nullopt; }

 private:
  Nanos idleAfter_;
};

class Prediction final : public Policy {
 public:
  explicit Prediction(WakePredictorOptions options) : predictor_(options) {}
  void onWake(TimePoint at) override { predictor_.recordWake(at); }
  std::optional<TimePoint> swapOutAt(TimePoint idleSince, TimePoint now) override {
    TimePoint at = predictor_.swapOutCheckAt(idleSince, now);
    for (int i = 0; i < 4 && !predictor_.shouldSwapOut(idleSince, at); ++i) {
      at = predictor_.swapOutCheckAt(idleSince, at + Nanos(1));
    }
    if (!predictor_.shouldSwapOut(idleSince, at)) {
      std::cerr << "swapOutCheckAt returned a time at which shouldSwapOut is false\n";
      std::exit(1);
    }
    return at;
  }
  std::optional<TimePoint> prefetchAt() override { return predictor_.prefetchAt(); }

 private:
  WakePredictor predictor_;
};

class AlwaysResident final : public Policy {
 public:
  void onWake(TimePoint) override {}
  std::optional<TimePoint> swapOutAt(TimePoint, TimePoint) override { return std::nullopt; }
  std::optional<TimePoint> prefetchAt() override { return std::nullopt; }
};

// One operator through one trace. It starts swapped out (it was idle before the trace), except
// under AlwaysResident; the accounting window is first event to last.
Result simulate(const std::vector<TimePoint>& events, Policy& policy, const Setup& setup,
                bool startResident) {
  Result result;
  const TimePoint begin = events.front(), end = events.back();
  bool resident = startResident, prefetched = false;
  TimePoint now = begin, residentSince = begin, readyAt = begin, idleSince = begin,
            swappedAt = begin - Nanos(1);

  auto swapOut = [&](TimePoint at) {
    result.resident += at - residentSince;
    ++result.swapOuts;
    if (prefetched) ++result.wastedPrefetches;
    resident = prefetched = false;
    swappedAt = now = at;
  };
  auto restore = [&](TimePoint at) {
    ++result.restores;
    resident = true;
    residentSince = now = at;
    readyAt = idleSince = at + setup.restore;
  };

  for (const TimePoint event : events) {
    // What the policy does before this event.
    while (true) {
      if (resident) {
        const auto out = policy.swapOutAt(idleSince, std::max(now, idleSince));
        if (!out || *out >= event) break;
        swapOut(*out);
      } else {
        const auto prefetch = policy.prefetchAt();
        if (!prefetch || *prefetch <= swappedAt || *prefetch >= event) break;
        restore(*prefetch);
        ++result.prefetches;
        prefetched = true;
      }
    }
    ++result.events;
    if (!resident) restore(event);
    if (readyAt <= event) {
      ++result.foundResident;
    } else {
      const Nanos wait = readyAt - event;
      result.latency += wait;
      result.maxLatency = std::max(result.maxLatency, wait);
    }
    prefetched = false;
    now = event;
    idleSince = std::max(event, readyAt);
    policy.onWake(event);
  }
  if (resident) result.resident += end - residentSince;
  result.duration = end - begin;
  return result;
}

Json report(const std::string& trace, const std::string& policy, const Result& r,
            const Args& args) {
  const double residentSeconds = seconds(r.resident);
  return Json{
      {"trace", trace},
      {"policy", policy},
      {"events", r.events},
      {"found_resident", r.foundResident},
      {"found_resident_fraction", static_cast<double>(r.foundResident) / r.events},
      {"resident_seconds", residentSeconds},
      {"resident_time_fraction", residentSeconds / seconds(r.duration)},
      {"memory_mib_seconds", residentSeconds * args.memoryMib},
      {"duration_seconds", seconds(r.duration)},
      {"swap_outs", r.swapOuts},
      {"restores", r.restores},
      {"prefetches", r.prefetches},
      {"wasted_prefetches", r.wastedPrefetches},
      {"added_latency_ms_per_event", seconds(r.latency) * 1000 / r.events},
      {"added_latency_ms_max", seconds(r.maxLatency) * 1000},
      {"speedup", args.speedup},
      {"scale_policy", args.scalePolicy},
      {"scale_costs", args.scaleCosts},
      {"memory_mib", args.memoryMib},
      {"restore_ms", args.restoreMs},
      {"swapout_ms", args.swapoutMs},
      {"idle_after_ms", args.idleAfterMs},
      {"lead_ms", args.leadMs},
      {"history", args.history},
  };
}

void printMarkdown(const Json& rows) {
  std::printf(
      "| trace | policy | found resident | resident s | MiB*s | swap-outs | restores (prefetch, "
      "wasted) | added ms/event |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& row : rows) {
    std::printf("| %s | %s | %.3f | %.0f | %.1f | %d | %d (%d, %d) | %.3f |\n",
                row["trace"].get<std::string>().c_str(), row["policy"].get<std::string>().c_str(),
                row["found_resident_fraction"].get<double>(), row["resident_seconds"].get<double>(),
                row["memory_mib_seconds"].get<double>(), row["swap_outs"].get<int>(),
                row["restores"].get<int>(), row["prefetches"].get<int>(),
                row["wasted_prefetches"].get<int>(),
                row["added_latency_ms_per_event"].get<double>());
  }
}

std::optional<Args> parseArgs(int argc, char** argv) {
  Args args;
  std::string dir = WOP_TRACES_DIR;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    auto number = [&](double& out) {
      const auto text = value();
      if (!text) return false;
      try {
        out = std::stod(*text);
      } catch (...) {
        return false;
      }
      return out > 0;
    };
    bool ok = true;
    double history = 0;
    if (flag == "--traces") {
      const auto text = value();
      ok = text.has_value();
      if (ok) dir = *text;
    } else if (flag == "--trace") {
      const auto text = value();
      ok = text.has_value();
      if (ok) files.push_back(*text);
    } else if (flag == "--speedup") {
      ok = number(args.speedup);
    } else if (flag == "--memory-mib") {
      ok = number(args.memoryMib);
    } else if (flag == "--restore-ms") {
      ok = number(args.restoreMs);
    } else if (flag == "--swapout-ms") {
      ok = number(args.swapoutMs);
    } else if (flag == "--idle-after-ms") {
      ok = number(args.idleAfterMs);
    } else if (flag == "--lead-ms") {
      ok = number(args.leadMs);
    } else if (flag == "--history") {
      ok = number(history);
      args.history = static_cast<size_t>(history);
    } else if (flag == "--scale-policy") {
      args.scalePolicy = true;
    } else if (flag == "--scale-costs") {
      args.scaleCosts = true;
    } else if (flag == "--format") {
      const auto text = value();
      ok = text && (*text == "json" || *text == "markdown");
      args.markdown = ok && *text == "markdown";
    } else {
      ok = false;
    }
    if (!ok) {
      std::cerr << "bad or unknown argument: " << flag << " (see the top of replay_traces.cc)\n";
      return std::nullopt;
    }
  }
  if (files.empty()) {
    for (const char* n : {"5", "10", "60"}) files.push_back(dir + "/traces_" + n + ".csv");
  }
  args.traces = files;
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = parseArgs(argc, argv);
  if (!args) return 2;
  const double policyScale = args->scalePolicy ? args->speedup : 1;
  const double costScale = args->scaleCosts ? args->speedup : 1;
  const Setup setup{
      .restore = fromMs(args->restoreMs / costScale),
      .idleAfter = fromMs(args->idleAfterMs / policyScale),
      .lead = fromMs(args->leadMs / policyScale),
      .restoreCost = fromMs((args->restoreMs + args->swapoutMs) / costScale),
      .history = args->history,
  };
  const WakePredictorOptions options{
      .idleAfter = std::chrono::duration_cast<std::chrono::milliseconds>(setup.idleAfter),
      .lead = std::chrono::duration_cast<std::chrono::milliseconds>(setup.lead),
      .restoreCost = std::chrono::duration_cast<std::chrono::microseconds>(setup.restoreCost),
      .history = setup.history,
  };

  Json rows = Json::array();
  for (const auto& path : args->traces) {
    std::string error;
    const auto trace = wop::bench::readTrace(path, error);
    if (!trace) {
      std::cerr << error << "\n";
      return 1;
    }
    std::vector<TimePoint> events;
    const TimePoint origin = TimePoint(std::chrono::hours(1));
    for (const Nanos offset : trace->offsets) {
      events.push_back(origin + std::chrono::duration_cast<Nanos>(offset / args->speedup));
    }
    NoPrediction none(setup.idleAfter);
    Prediction predict(options);
    AlwaysResident always;
    rows.push_back(report(trace->name, "none", simulate(events, none, setup, false), *args));
    rows.push_back(report(trace->name, "predict", simulate(events, predict, setup, false), *args));
    rows.push_back(report(trace->name, "always", simulate(events, always, setup, true), *args));
  }
  if (args->markdown) {
    printMarkdown(rows);
  } else {
    std::cout << "[\n";
    for (size_t i = 0; i < rows.size(); ++i) {
      std::cout << "  " << rows[i].dump() << (i + 1 < rows.size() ? ",\n" : "\n");
    }
    std::cout << "]\n";
  }
  return 0;
}
