// The swap benchmark's modes that need a control plane (run by bench/swap/run.py):
//   latency  one counter operator (test/guests/counter); a label change to its ConfigMap after it
//            has swapped out (or, resident, after the same pause; or, prefetched, at a regular
//            period); the host's change-to-reconcile samples by WakeKind, and the end-to-end time
//            from the API write until the reconcile's own write (the count annotation) is visible
//   memory   host RSS and PSS (smaps_rollup) with N counter operators, each watching a namespace
//            of its own, all swapped out or all resident, and with changes flowing to K of them
//   replay   one counter operator; a recorded trace's events (trace.h) replayed as label changes
//            at their scheduled times, under a swap policy; how many found it resident, its
//            resident time and the change-to-reconcile delays (the simulator: replay_traces.cc)
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "runtime/figure_recorder.h"
#include "runtime/operator_host.h"
#include "swap/swap_bench.h"
#include "swap/trace.h"

namespace wop::bench::swap {
namespace {

const kube::ResourceInfo kNamespaces{{"", "v1", "namespaces"}, "Namespace", false};
const kube::ResourceInfo kConfigMaps{{"", "v1", "configmaps"}, "ConfigMap", true};
constexpr const char* kCountAnnotation = "counter.wasm-operator.dev/count";

[[noreturn]] void die(const std::string& what) {
  std::cerr << "swap_bench: " << what << "\n";
  std::exit(1);
}

bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::microseconds poll = std::chrono::milliseconds(2)) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

kube::ClientConfig loadConfig(const Args& args) {
  kube::KubeconfigOptions options;
  options.explicitPath = args.kubeconfig;
  auto config = kube::loadKubeconfig(options);
  if (!config) die(config.status().toString());
  return *config;
}

void ensureNamespace(kube::Client& client, const std::string& name) {
  (void)client.create(
      kNamespaces, "",
      Json({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}}).dump());
}

void ensureConfigMap(kube::Client& client, const std::string& ns, const std::string& name) {
  (void)client.create(kConfigMaps, ns,
                      Json({{"metadata", {{"name", name}, {"labels", {{"step", "0"}}}}}}).dump());
}

void setStep(kube::Client& client, const std::string& ns, const std::string& name, int step) {
  auto patched =
      client.patch(kConfigMaps, ns, name, kube::PatchType::kJsonMerge,
                   Json({{"metadata", {{"labels", {{"step", std::to_string(step)}}}}}}).dump());
  if (!patched) die("patching " + ns + "/" + name);
}

int64_t countIn(kube::Client& client, const std::string& ns, const std::string& name) {
  auto object = client.get(kConfigMaps, ns, name);
  if (!object) return -1;
  const auto annotations = Json::parse(*object)["metadata"].value("annotations", Json::object());
  return annotations.contains(kCountAnnotation)
             ? std::stoll(annotations[kCountAnnotation].get<std::string>())
             : 0;
}

runtime::OperatorStats statsOf(runtime::OperatorHost& host, const std::string& name) {
  for (auto& s : host.stats()) {
    if (s.name == name) return s;
  }
  die("no operator " + name);
}

// Change-to-reconcile delays and swap durations of the host under test.
const auto figures = std::make_shared<runtime::FigureRecorder>();

runtime::HostOptions hostOptions(const Args& args) {
  runtime::HostOptions options{.workers = 2, .artifactDirectory = args.artifacts};
  options.observer = figures;
  options.swap.enabled = args.swap;
  options.swap.directory = args.snapshotDir;
  options.swap.idleAfter = std::chrono::milliseconds(args.idleMs);
  options.swap.predict = args.predict;
  return options;
}

void quietLog(const runtime::LogRecord& record) {
  if (record.level >= 2) runtime::stderrLogSink()(record);
}

// VmRSS and the smaps_rollup figures of this process, in bytes.
Json memorySample() {
  Json sample;
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) sample["rss"] = std::stoull(line.substr(6)) * 1024;
  }
  std::ifstream rollup("/proc/self/smaps_rollup");
  for (std::string line; std::getline(rollup, line);) {
    for (const char* field : {"Pss:", "Pss_Anon:", "Pss_File:", "Rss:"}) {
      if (line.rfind(field, 0) == 0) {
        std::string key = std::string(field, std::strlen(field) - 1);
        std::transform(key.begin(), key.end(), key.begin(), ::tolower);
        sample["smaps_" + key] = std::stoull(line.substr(std::strlen(field))) * 1024;
      }
    }
  }
  // Where it goes: the heap in use (malloc's own count) and file-backed pages (code, mapped
  // artifacts).
  const auto heap = ::mallinfo2();
  sample["heap_in_use"] = heap.uordblks + heap.hblkhd;
  return sample;
}

// Both before and after handing freed heap back to the system.
Json memorySamples() {
  Json before = memorySample();
  ::malloc_trim(0);
  return {{"untrimmed", before}, {"trimmed", memorySample()}};
}

uint64_t diskBytes(const std::string& directory, uint64_t* apparent) {
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(directory, error)) {
    struct stat info{};
    if (::stat(entry.path().c_str(), &info) == 0 && S_ISREG(info.st_mode)) {
      total += static_cast<uint64_t>(info.st_blocks) * 512;
      *apparent += static_cast<uint64_t>(info.st_size);
    }
  }
  return total;
}

// The counters act as the host (the admin client of the test control plane), as the ring's and
// the fleet's operators do: without a ServiceAccount an operator is refused unless trusted (since
// c9b238e), which stopped every mode of this benchmark that runs operators.
constexpr bool kActAsTheHost = true;

// A counter operator on a namespace of its own, holding one watched ConfigMap at step 0; returns
// the count once it has reconciled that ConfigMap (dies if it never does).
int64_t startCounter(runtime::OperatorHost& host, kube::Client& driver, const Args& args,
                     const std::string& ns) {
  ensureNamespace(driver, ns);
  ensureConfigMap(driver, ns, "watched");
  setStep(driver, ns, "watched", 0);
  auto added = host.add({.name = "counter",
                         .modulePath = args.wasmDir + "/counter.wasm",
                         .trusted = kActAsTheHost,
                         .configJson = Json({{"namespace", ns}}).dump()});
  if (!added.isOk()) die(added.toString());
  int64_t count = 0;
  if (!waitUntil([&] { return (count = countIn(driver, ns, "watched")) >= 1; },
                 std::chrono::seconds(60))) {
    die("the counter never reconciled");
  }
  return count;
}

// Forgets the latency samples taken so far (start-up), so a run measures only its own.
void dropLatencySamples() {
  for (auto kind : {runtime::WakeKind::kResident, runtime::WakeKind::kSwapped,
                    runtime::WakeKind::kPrefetched}) {
    (void)figures->takeLatencySamples(kind);
  }
}

}  // namespace

Json benchLatency(const Args& args) {
  const std::string setup = !args.swap ? "resident" : args.predict ? "prefetched" : "swapped";
  kube::Client hostClient(loadConfig(args), {.qps = 0});
  kube::Client driver(loadConfig(args), {.qps = 0});  // the driver's own connection
  runtime::OperatorHost host(hostClient, hostOptions(args), quietLog);
  // A namespace of this run's own: the counter counts every reconcile of every ConfigMap it sees.
  const std::string ns = "bench-swap-latency-" + setup + "-" + std::to_string(::getpid());
  int64_t count = startCounter(host, driver, args, ns);
  dropLatencySamples();
  std::mt19937 random(42);
  std::uniform_int_distribution<int> jitter(-args.periodMs / 20, args.periodMs / 20);
  std::vector<double> endToEnd;
  int foundSwapped = 0;
  int64_t extraReconciles = 0;
  const auto start = Clock::now();
  for (int i = 1; i <= args.changes; ++i) {
    if (setup == "swapped") {
      if (!waitUntil([&] { return statsOf(host, "counter").swappedOut; }, std::chrono::seconds(10),
                     std::chrono::microseconds(500))) {
        die("the counter did not swap out");
      }
    } else if (setup == "resident") {
      std::this_thread::sleep_for(std::chrono::milliseconds(args.idleMs));
    } else {
      std::this_thread::sleep_until(start +
                                    std::chrono::milliseconds(i * args.periodMs + jitter(random)));
    }
    foundSwapped += statsOf(host, "counter").swappedOut ? 1 : 0;
    const auto written = Clock::now();
    setStep(driver, ns, "watched", i);
    const int64_t before = count;
    if (!waitUntil([&] { return (count = countIn(driver, ns, "watched")) > before; },
                   std::chrono::seconds(10), std::chrono::microseconds(200))) {
      die("change " + std::to_string(i) + " was not reconciled (count " + std::to_string(count) +
          ")");
    }
    // More than one reconcile for a change is allowed (level-based), but counted and reported.
    extraReconciles += count - before - 1;
    endToEnd.push_back(msSince(written));
  }
  const auto resident = figures->takeLatencySamples(runtime::WakeKind::kResident);
  const auto swapped = figures->takeLatencySamples(runtime::WakeKind::kSwapped);
  const auto prefetched = figures->takeLatencySamples(runtime::WakeKind::kPrefetched);
  const auto stats = statsOf(host, "counter");
  return {{"setup", setup},
          {"changes", args.changes},
          {"idle_ms", args.idleMs},
          {"period_ms", args.periodMs},
          {"change_to_reconcile_ms",
           {{"resident", summary(resident)},
            {"swapped", summary(swapped)},
            {"prefetched", summary(prefetched)}}},
          {"end_to_end_ms", summary(endToEnd)},
          {"found_swapped_at_write", foundSwapped},
          {"final_count", count},
          {"extra_reconciles", extraReconciles},
          {"swap_outs", stats.swapOuts},
          {"restores", stats.restores},
          {"prefetches", stats.prefetches},
          {"wakes_resident", stats.wakesResident},
          {"wakes_swapped", stats.wakesSwapped},
          {"snapshot_faults", stats.snapshotFaults},
          {"restore_ms", summary(figures->takeSwapSamples(runtime::SwapEvent::kRestore))},
          {"swapout_ms", summary(figures->takeSwapSamples(runtime::SwapEvent::kSwapOut))}};
}

Json benchMemory(const Args& args) {
  kube::Client hostClient(loadConfig(args), {.qps = 0});
  kube::Client driver(loadConfig(args), {.qps = 0});
  // Own namespaces: each operator also brings its own informer (a watch and a small cache).
  // One shared namespace: what remains is the operator's own state.
  auto nsOf = [&](int i) {
    return args.sharedNamespace ? std::string("bench-swap-memory-shared")
                                : "bench-swap-memory-" + std::to_string(i);
  };
  for (int i = 0; i < args.operators; ++i) {
    ensureNamespace(driver, nsOf(i));
    ensureConfigMap(driver, nsOf(i), "watched");
  }
  runtime::OperatorHost host(hostClient, hostOptions(args), quietLog);
  auto all = [&](auto predicate) {
    for (const auto& s : host.stats()) {
      if (!predicate(s)) return false;
    }
    return true;
  };
  // Adds operators [from, to) and waits until each reconciled (and swapped out).
  auto addOperators = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      if (!args.sharedNamespace && i >= args.operators) {  // the first ones' exist already
        ensureNamespace(driver, nsOf(i));
        ensureConfigMap(driver, nsOf(i), "watched");
      }
      auto added = host.add({.name = "counter-" + std::to_string(i),
                             .modulePath = args.wasmDir + "/counter.wasm",
                             .trusted = kActAsTheHost,
                             .configJson = Json({{"namespace", nsOf(i)}}).dump()});
      if (!added.isOk()) die(added.toString());
    }
    if (!waitUntil([&] { return all([](const auto& s) { return s.reconciles >= 1; }); },
                   std::chrono::seconds(120))) {
      die("not every operator reconciled");
    }
    if (args.swap && to > 0 &&
        !waitUntil([&] { return all([](const auto& s) { return s.swappedOut; }); },
                   std::chrono::seconds(60))) {
      die("not every operator swapped out");
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
  };
  addOperators(0, args.operators);
  Json result = {{"operators", args.operators},
                 {"swap", args.swap},
                 {"idle_ms", args.idleMs},
                 {"shared_namespace", args.sharedNamespace}};
  auto describe = [&](Json& into) {
    uint64_t linear = 0, swappedOut = 0, snapshotBytes = 0;
    for (const auto& s : host.stats()) {
      linear += s.memoryBytes;
      swappedOut += s.swappedOut ? 1 : 0;
      snapshotBytes += s.snapshotBytes;
    }
    uint64_t apparent = 0;
    into["linear_memory_bytes"] = linear;
    into["swapped_out"] = swappedOut;
    into["snapshot_bytes_written"] = snapshotBytes;
    into["snapshot_disk_bytes"] =
        host.snapshotDirectory().empty() ? 0 : diskBytes(host.snapshotDirectory(), &apparent);
    into["snapshot_apparent_bytes"] = apparent;
  };
  if (std::getenv("WOP_BENCH_SMAPS")) {
    // Which mappings hold the memory (a diagnosis aid): Pss by mapping name, largest first.
    std::map<std::string, uint64_t> pss;
    std::ifstream smaps("/proc/self/smaps");
    std::string name;
    for (std::string line; std::getline(smaps, line);) {
      const auto colon = line.find(':');
      if (colon == std::string::npos || line.find('-') < colon) {  // a mapping's first line
        std::istringstream fields(line);
        std::string range, perms, offset, device, inode;
        fields >> range >> perms >> offset >> device >> inode;
        std::getline(fields >> std::ws, name);
        if (name.empty()) name = "[anon]";
      } else if (line.rfind("Pss:", 0) == 0) {
        pss[name] += std::stoull(line.substr(4));
      }
    }
    std::vector<std::pair<uint64_t, std::string>> sorted;
    for (auto& [n, kb] : pss) sorted.emplace_back(kb, n);
    std::sort(sorted.rbegin(), sorted.rend());
    for (size_t i = 0; i < std::min<size_t>(12, sorted.size()); ++i)
      std::cerr << sorted[i].first << " KiB " << sorted[i].second << "\n";
  }
  result["idle"] = memorySamples();
  describe(result["idle"]);
  if (args.marginal > 0) {
    // The same again, in the same process: the difference is what each more operator costs,
    // without the code and heap the first ones brought in once.
    addOperators(args.operators, args.operators + args.marginal);
    result["marginal"] = memorySamples();
    result["marginal"]["added"] = args.marginal;
  }
  if (args.active > 0) {
    // Changes to K operators, each about every 100 ms (shorter than the idle period, so they
    // stay resident while the others stay on disk).
    std::atomic<bool> stop = false;
    std::atomic<int> writes = 0;
    std::jthread writer([&] {
      for (int step = 1; !stop; ++step) {
        for (int i = 0; i < args.active && !stop; ++i) {
          setStep(driver, nsOf(i), "watched", step);
          writes++;
          std::this_thread::sleep_for(std::chrono::milliseconds(100 / args.active));
        }
      }
    });
    std::this_thread::sleep_for(std::chrono::seconds(4));
    result["active"] = memorySamples();
    describe(result["active"]);
    stop = true;
    writer.join();
    result["active"]["writes"] = writes.load();
    result["active"]["count"] = args.active;
  }
  return result;
}

// The live counterpart of replay_traces: the same policies against the real host. Gaps and the
// idle period are divided by the speed-up, so the operator sees the trace's pattern at speed 1
// (idle 2 s against 5-60 s gaps); the predictor's lead (50 ms) and break-even (200 ms) are real
// durations inside the host and are not scaled, nor are restore costs.
Json benchReplay(const Args& args) {
  if (args.speedup <= 0) die("--speedup must be positive");
  if (args.policy != "none" && args.policy != "predict" && args.policy != "always") {
    die("--policy must be none, predict or always");
  }
  std::string error;
  const auto trace = readTrace(args.trace, error);
  if (!trace) die(error);
  const size_t events = args.events > 0 ? std::min<size_t>(args.events, trace->offsets.size())
                                        : trace->offsets.size();
  Args hostArgs = args;
  hostArgs.swap = args.policy != "always";
  hostArgs.predict = args.policy == "predict";
  hostArgs.idleMs = std::max(1, static_cast<int>(std::lround(2000 / args.speedup)));
  auto scheduled = [&](size_t i) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double, std::nano>(
        static_cast<double>(trace->offsets[i].count()) / args.speedup));
  };

  kube::Client hostClient(loadConfig(args), {.qps = 0});
  kube::Client driver(loadConfig(args), {.qps = 0});
  runtime::OperatorHost host(hostClient, hostOptions(hostArgs), quietLog);
  std::string ns =
      "bench-swap-replay-" + trace->name + "-" + args.policy + "-" + std::to_string(::getpid());
  std::replace(ns.begin(), ns.end(), '_', '-');
  (void)startCounter(host, driver, args, ns);
  // As in the simulator: the replay starts with the operator swapped out (resident for always).
  if (hostArgs.swap &&
      !waitUntil([&] { return statsOf(host, "counter").swappedOut; }, std::chrono::seconds(60))) {
    die("the counter did not swap out");
  }
  const int64_t startCount = countIn(driver, ns, "watched");
  dropLatencySamples();

  std::vector<double>
      writeLag;  // how late each write left the driver (a check of the replay itself)
  runtime::OperatorStats before;
  const auto start = Clock::now() + std::chrono::milliseconds(100);
  for (size_t i = 0; i < events; ++i) {
    const auto due = start + scheduled(i);
    std::this_thread::sleep_until(due);
    if (i == 0) before = statsOf(host, "counter");
    setStep(driver, ns, "watched", static_cast<int>(i) + 1);
    writeLag.push_back(msSince(due));
  }
  int64_t count = 0;
  const bool allReconciled = waitUntil(
      [&] {
        return (count = countIn(driver, ns, "watched")) >=
               startCount + static_cast<int64_t>(events);
      },
      std::chrono::seconds(60), std::chrono::milliseconds(1));
  const auto after =
      statsOf(host, "counter");  // resident time from the first event to the last reconcile
  // Late extra reconciles (level-based: allowed, but counted) show up within an idle period.
  std::this_thread::sleep_for(std::chrono::milliseconds(hostArgs.idleMs + 500));
  count = countIn(driver, ns, "watched");

  const auto wakesResident = after.wakesResident - before.wakesResident;
  const auto wakesSwapped = after.wakesSwapped - before.wakesSwapped;
  const double residentSeconds = after.residentSeconds - before.residentSeconds;
  const double traceSeconds = std::chrono::duration<double>(trace->offsets[events - 1]).count();
  // With swapping off the host does not track wakes: every event finds the operator resident.
  const double foundResident =
      !hostArgs.swap ? 1.0
      : wakesResident + wakesSwapped > 0
          ? static_cast<double>(wakesResident) / static_cast<double>(wakesResident + wakesSwapped)
          : 0.0;
  return {{"trace", trace->name},
          {"policy", args.policy},
          {"speedup", args.speedup},
          {"events", events},
          {"idle_ms", hostArgs.idleMs},
          {"trace_seconds", traceSeconds},
          {"found_resident", foundResident},
          {"wakes_resident", wakesResident},
          {"wakes_swapped", wakesSwapped},
          {"resident_seconds", residentSeconds},
          {"resident_seconds_trace_time", residentSeconds * args.speedup},
          {"swap_outs", after.swapOuts - before.swapOuts},
          {"restores", after.restores - before.restores},
          {"prefetches", after.prefetches - before.prefetches},
          {"snapshot_faults", after.snapshotFaults},
          {"change_to_reconcile_ms",
           {{"resident", summary(figures->takeLatencySamples(runtime::WakeKind::kResident))},
            {"swapped", summary(figures->takeLatencySamples(runtime::WakeKind::kSwapped))},
            {"prefetched", summary(figures->takeLatencySamples(runtime::WakeKind::kPrefetched))}}},
          {"all_reconciled", allReconciled},
          {"reconciles", count - startCount},
          {"extra_reconciles", count - startCount - static_cast<int64_t>(events)},
          {"write_lag_ms", summary(writeLag)},
          {"restore_ms", summary(figures->takeSwapSamples(runtime::SwapEvent::kRestore))},
          {"swapout_ms", summary(figures->takeSwapSamples(runtime::SwapEvent::kSwapOut))}};
}

}  // namespace wop::bench::swap
