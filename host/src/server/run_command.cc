#include "server/run_command.h"

#include <malloc.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/histogram.h"
#include "common/limits.h"
#include "common/open_files.h"
#include "fetch/https_client.h"
#include "fetch/module_store.h"
#include "outbound/outbound_client.h"
#include "runtime/operator_host.h"
#include "runtime/wake_latency_recorder.h"
#include "server/cluster_flags.h"
#include "server/endpoints.h"
#include "server/health_checks.h"
#include "server/host_process.h"
#include "server/leadership.h"
#include "server/lifecycle_events.h"
#include "server/operator_definitions.h"
#include "server/sharding.h"
#include "server/wasm_operator_controller.h"
#include "wop_abi.h"

namespace wop::server {
namespace {

using common::Status;
using common::StatusCode;

int fail(const std::string& message) {
  std::cerr << "wasm-operator run: " << message << "\n";
  return 1;
}

// Where the host's memory is, as far as the process itself can tell: the heap malloc hands
// out, the informer caches inside it (by the stores' accounting) and the operators' linear
// memories (mapped, not heap). /proc/PID/smaps splits the rest (code, libraries, stacks).
nlohmann::json memoryJson(runtime::OperatorHost& host, size_t resident, size_t linearMemoryBytes) {
  const struct mallinfo2 heap = mallinfo2();
  const auto caches = host.informers().cacheTotals();
  return {{"residentBytes", resident},
          {"heapInUseBytes", heap.uordblks + heap.hblkhd},
          {"cachedObjects", caches.objects},
          {"cachedObjectBytes", caches.objectBytes},
          {"cachedIndexBytes", caches.indexBytes},
          {"linearMemoryBytes", linearMemoryBytes}};
}

// Where operators' compiled modules came from (module_cache.h): compiled, mapped from an
// artifact, shared in memory (a parked one counts here when a restore takes it back), and the
// parked now and let go over the limit.
nlohmann::json modulesJson(const wasm::ModuleCacheCounters& counters) {
  return {{"compiled", counters.compiled},
          {"loadedFromDisk", counters.loadedFromDisk},
          {"sharedInMemory", counters.sharedInMemory},
          {"parked", counters.parked},
          {"parkedLetGo", counters.parkedLetGo}};
}

// Cumulative counts of the host's own part of wake-ups by wake kind, to the return of the
// reconcile entry, to its start ("started") and to the start of the worker's slice ("worker"), for
// benchmarks to diff between two reads (runtime/wake_latency_recorder.h).
nlohmann::json wakeLatencyJson(const runtime::WakeLatencyRecorder& recorder) {
  static const std::vector<double> kBoundsMs = [] {
    std::vector<double> ms;
    for (double bound : common::fineLatencyBuckets()) ms.push_back(bound * 1000);
    return ms;
  }();
  nlohmann::json out;
  out["upperBoundsMs"] = kBoundsMs;
  for (const auto& [name, kind] : {std::pair{"resident", runtime::WakeKind::kResident},
                                   std::pair{"restored", runtime::WakeKind::kSwapped},
                                   std::pair{"prefetched", runtime::WakeKind::kPrefetched}}) {
    const auto returned = recorder.snapshot(kind);
    const auto started = recorder.startedSnapshot(kind);
    const auto worker = recorder.workerSnapshot(kind);
    out[name] = {{"count", returned.count},       {"cumulative", returned.cumulativeCounts},
                 {"startedCount", started.count}, {"startedCumulative", started.cumulativeCounts},
                 {"workerCount", worker.count},   {"workerCumulative", worker.cumulativeCounts}};
  }
  return out;
}

nlohmann::json statusJson(runtime::OperatorHost& host,
                          const runtime::WakeLatencyRecorder* wakeLatency = nullptr) {
  nlohmann::json operators = nlohmann::json::array();
  size_t linearMemoryBytes = 0;
  for (const auto& s : host.stats()) {
    linearMemoryBytes += s.memoryBytes;
    operators.push_back({{"name", s.name},
                         {"state", runtime::operatorStateName(s.state)},
                         {"reconciles", s.reconciles},
                         {"reconcileErrors", s.reconcileErrors},
                         {"apiCalls", s.apiCalls},
                         {"restarts", s.restarts},
                         {"queuedKeys", s.queuedKeys},
                         {"memoryBytes", s.memoryBytes},
                         {"lastError", s.lastError},
                         {"swap",
                          {{"swappable", s.swappable},
                           {"swappedOut", s.swappedOut},
                           {"swapOuts", s.swapOuts},
                           {"restores", s.restores},
                           {"prefetches", s.prefetches},
                           {"prefetchesWasted", s.prefetchesWasted},
                           {"prefetchesSentOutByBudget", s.prefetchesSentOutByBudget},
                           {"prefetchesSkipped", s.prefetchesSkipped},
                           {"snapshotFaults", s.snapshotFaults},
                           {"snapshotBytes", s.snapshotBytes},
                           {"wakesResident", s.wakesResident},
                           {"wakesSwapped", s.wakesSwapped},
                           {"residentSeconds", s.residentSeconds},
                           {"lastRestoreMs", s.lastRestoreMs},
                           {"lastSwapOutMs", s.lastSwapOutMs},
                           {"restoreMsTotal", s.restoreMsTotal},
                           {"swapOutMsTotal", s.swapOutMsTotal}}}});
  }
  const size_t resident = residentBytes();  // one read of /proc/self/status per status write
  nlohmann::json status = {{"operators", operators},
                           {"hostResidentBytes", resident},
                           {"memory", memoryJson(host, resident, linearMemoryBytes)},
                           // Watches open on the API server, and resources whose namespaced watches
                           // were folded into one cluster-wide watch (--cluster-wide-watch-after).
                           {"watches",
                            {{"informers", host.informers().activeInformers()},
                             {"clusterWideResources", host.informers().clusterWideResources()}}},
                           {"modules", modulesJson(host.moduleCounters())}};
  if (wakeLatency) status["wakeLatency"] = wakeLatencyJson(*wakeLatency);
  return status;
}

void writeStatus(const std::string& path, const nlohmann::json& status) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << status.dump(2) << "\n";
  }
  std::rename(tmp.c_str(), path.c_str());
}

constexpr auto kMaxSwapIdle = std::chrono::hours(24);
constexpr int64_t kMaxSwapMemoryBudgetMiB = int64_t{1} << 30;  // 1 PiB: any machine's memory
// On by default: without it the idle timer keeps every operator woken in the last idle period
// resident with its compiled code, several times the memory at N = 1000 distinct modules for
// about the same hop latency (docs/swap.md, docs/benchmarks/scale.md).
constexpr int64_t kDefaultSwapMemoryBudgetMiB = 64;
// The early swap-out (SwapOptions::settleAfter). The idle timer alone kept every woken operator
// resident for its idle period whether or not its next wake was near: in the fleet benchmark
// (docs/benchmarks/fleet.md, commit c3048d2) the defaults without it held 29.3% of swap-off's
// PSS at 1.10x its p50 wake-up latency, with it 17.7% at 1.07x (the goal: 25% at 1.1x); on
// another draw of the workload 23.3% at 1.15x against 15.8% at 1.11x. 250 ms still lets a
// burst (an operator's own write coming back as an event) find it resident.
constexpr std::chrono::milliseconds kDefaultSwapSettle{250};
// Operators loaded at once at start: a load mostly waits for its permission reviews, so a few
// in flight hide those waits (docs/benchmarks/scale.md: time to ready at N = 10,000); the
// loader threads end when every definition is loaded.
constexpr size_t kParallelLoads = 8;
constexpr int64_t kMaxGuestMemoryReservationMiB = 4096;  // a 32-bit memory's whole range
constexpr int64_t kDefaultGuestMemoryReservationMiB = 0;

std::vector<Flag> swapFlags() {
  const runtime::SwapOptions swap;
  return {
      Flag::onOff("swap", "swap idle operators' memory to disk").withDefault(true),
      Flag::text("swap-dir", "D", "snapshots (default ~/.cache/wasm-operator/snapshots)"),
      Flag::duration("swap-idle-ms", "N",
                     "idle time before a swap-out, in ms or e.g. 500ms, 2s, 1m",
                     std::chrono::milliseconds(0), kMaxSwapIdle)
          .withDefault(swap.idleAfter),
      Flag::onOff("swap-predict", "restore ahead of predicted wakes").withDefault(swap.predict),
      Flag::duration("swap-settle-ms", "N",
                     "with --swap-predict: swap out after N idle when the next predicted wake is "
                     "confidently far (0: wait --swap-idle-ms)",
                     std::chrono::milliseconds(0), kMaxSwapIdle)
          .withDefault(kDefaultSwapSettle),
      Flag::integer("swap-memory-budget-mib", "N",
                    "swap out the idle operators whose next wake is furthest away while their "
                    "resident linear memories and compiled code add up to more than N MiB (0: "
                    "no budget)",
                    0, kMaxSwapMemoryBudgetMiB)
          .withDefault(kDefaultSwapMemoryBudgetMiB),
  };
}

runtime::SwapOptions swapOptions(const ParsedFlags& flags) {
  runtime::SwapOptions swap;
  swap.enabled = flags.onOff("swap").value_or(true);
  if (auto predict = flags.onOff("swap-predict")) swap.predict = *predict;
  if (auto directory = flags.text("swap-dir")) swap.directory = *directory;
  if (auto idle = flags.duration("swap-idle-ms")) swap.idleAfter = *idle;
  swap.settleAfter = flags.duration("swap-settle-ms").value_or(kDefaultSwapSettle);
  const auto budget = flags.integer("swap-memory-budget-mib").value_or(kDefaultSwapMemoryBudgetMiB);
  swap.memoryBudgetBytes = static_cast<uint64_t>(budget) << 20;
  return swap;
}

// The per-memory address space reservation (wasm/engine.h, docs/benchmarks/vm.md).
Flag guestMemoryFlag() {
  return Flag::integer("guest-memory-reservation-mib", "N",
                       "address space reserved per guest memory, in MiB: 0 or 4096, 4 GiB and "
                       "guard pages (no bounds checks); 1 to 4095, that much and bounds checks "
                       "(an operator whose memory limit is above it is refused)",
                       0, kMaxGuestMemoryReservationMiB)
      .withDefault(int64_t{kDefaultGuestMemoryReservationMiB});
}

uint64_t guestMemoryReservationBytes(const ParsedFlags& flags) {
  const auto mib =
      flags.integer("guest-memory-reservation-mib").value_or(kDefaultGuestMemoryReservationMiB);
  return static_cast<uint64_t>(mib) << 20;
}

}  // namespace

FlagSet runFlags() {
  FlagSet flags("wasm-operator run",
                "Runs the operators defined in FILE_OR_FOLDER (a YAML file or a folder of them), "
                "or without --operators the cluster's WasmOperator objects, until SIGINT or "
                "SIGTERM.");
  flags.add(Flag::text("operators", "FILE_OR_FOLDER",
                       "the operator definitions (WasmOperator objects in files); without it, the "
                       "host runs the WasmOperator objects of the cluster"));
  flags.add(clusterFlags());
  flags.add(Flag::text("module-ca-file", "F",
                       "PEM CA certificates trusted for module downloads (registries, urls) "
                       "and operators' outbound HTTPS calls, beside the system's"));
  flags.add(Flag::text("artifact-dir", "D",
                       "compiled modules (default ~/.cache/wasm-operator/artifacts)"));
  flags.add(Flag::text("status-file", "F",
                       "rewrite F every second with the operators' status JSON and the host's own "
                       "part of wake-up latency by wake kind (for benchmarks)"));
  flags.add(swapFlags());
  flags.add(guestMemoryFlag());
  flags.add(Flag::text("metrics-bind-address", "ADDR",
                       "serve Prometheus metrics at http://ADDR/metrics; \"0\": off")
                .withDefault(":8080"));
  flags.add(Flag::text("health-probe-bind-address", "ADDR",
                       "serve /healthz and /readyz at ADDR; \"0\": off")
                .withDefault(":8081"));
  flags.add(leaderElectionFlags());
  flags.add(Flag::duration("graceful-shutdown-timeout", "D",
                           "on SIGTERM, how long reconciles in flight may take to finish",
                           std::chrono::milliseconds(0), std::chrono::hours(1))
                .withDefault(std::chrono::milliseconds(30'000)));
  return flags;
}

size_t residentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

namespace {

// controller-runtime's graceful shutdown: no new keys, the reconciles in flight get until the
// deadline to finish (their API calls still complete), then the lease is released.
void drain(runtime::OperatorHost& host, std::chrono::milliseconds timeout) {
  host.setTakingKeys(false);
  const auto left =
      runtime::awaitReconciles([&host] { return host.reconcilesInFlight(); }, timeout);
  if (left > 0) {
    host.log("", WOP_LOG_WARN,
             std::to_string(left) +
                 " reconcile(s) still in flight after the graceful shutdown "
                 "timeout: their keys run again on the next leader");
  }
}

// What the host's lifecycle listener is: the Events, and the WasmOperator controller while it
// runs (its objects are what Events regard, and it writes a changed operator's status at once).
// Guarded: the host's threads report changes until the controller has left.
class ControllerSlot final : public runtime::LifecycleListener {
 public:
  explicit ControllerSlot(std::optional<ObjectReference> pod) : pod_(std::move(pod)) {}
  void setEvents(std::shared_ptr<LifecycleEvents> events) { events_ = std::move(events); }
  void attach(WasmOperatorController* controller) {
    std::lock_guard lock(mutex_);
    controller_ = controller;
  }
  ObjectReference regarding(const std::string& operatorName) {
    std::lock_guard lock(mutex_);
    if (controller_) return controller_->regarding(operatorName);
    return pod_ ? *pod_ : ObjectReference{};
  }
  void changed(const runtime::LifecycleEvent& event) override {
    if (events_) events_->changed(event);
    std::lock_guard lock(mutex_);
    if (controller_) controller_->changed(event);
  }

 private:
  const std::optional<ObjectReference> pod_;
  std::shared_ptr<LifecycleEvents> events_;
  std::mutex mutex_;
  WasmOperatorController* controller_ = nullptr;
};

// /readyz: every definition loaded (or the WasmOperator controller through its first list),
// every running operator's caches synced, and, under leader election, the leader known.
void addReadinessChecks(HealthChecks& readyz, runtime::OperatorHost& host,
                        std::function<bool()> loaded, const Coordination* coordination) {
  (void)readyz.add("operators", [loaded = std::move(loaded)] {
    return loaded() ? Status::ok() : Status(StatusCode::kUnavailable, "still loading");
  });
  (void)readyz.add("informers", [&host] {
    for (const auto& s : host.stats()) {
      if (s.state == runtime::OperatorState::kRunning && !s.cachesSynced) {
        return Status(StatusCode::kUnavailable, s.name + ": caches not synced");
      }
    }
    return Status::ok();
  });
  if (coordination) {
    (void)readyz.add("leader", [coordination] {
      return coordination->stateKnown()
                 ? Status::ok()
                 : Status(StatusCode::kUnavailable, "leader (or shard holders) not known yet");
    });
  }
}

}  // namespace

int runCommand(const ParsedFlags& flags) {
  // Without --operators, the host's own controller runs the cluster's WasmOperator objects.
  const auto definitions = flags.text("operators");
  std::vector<runtime::OperatorSpec> specs;
  if (definitions) {
    auto loaded = loadOperatorDefinitions(*definitions);
    if (!loaded) return fail(loaded.status().message());
    specs = std::move(*loaded);
  }
  auto config = clientConfig(flags);
  if (!config) return fail(config.status().message());
  auto election = leaderElectionConfig(flags, *config);
  if (!election) return fail(election.status().message());
  auto shards = shardCount(flags);
  if (!shards) return fail(shards.status().message());

  runtime::HostOptions options = hostOptions(flags);
  if (auto directory = flags.text("artifact-dir")) options.artifactDirectory = *directory;
  options.swap = swapOptions(flags);
  options.guestMemoryReservationBytes = guestMemoryReservationBytes(flags);
  options.shards = *shards;
  // Only a host that writes a status file stamps its wake-ups (for benchmarks).
  const auto statusFile = flags.text("status-file");
  std::shared_ptr<runtime::WakeLatencyRecorder> wakeLatency;
  if (statusFile) {
    wakeLatency = std::make_shared<runtime::WakeLatencyRecorder>();
    options.observer = wakeLatency;
  }
  // Lifecycle Events regard each WasmOperator object, or in file mode the host's own Pod (none
  // without POD_NAME). The controller is reset by hand before the host goes (it watches through
  // the host), after it left the slot.
  // Modules fetched for WasmOperators: downloaded once, kept by digest beside the artifacts.
  auto moduleDownloads =
      fetch::HttpsClient::create({.extraCaFile = flags.text("module-ca-file").value_or("")});
  if (!moduleDownloads) return fail(moduleDownloads.status().message());
  // Operators' outbound HTTP (spec.allowedHosts): the same CAs; never to the API server.
  auto outboundClient =
      outbound::OutboundClient::create({.extraCaFile = flags.text("module-ca-file").value_or("")},
                                       outbound::AddressPolicy::forApiServer(config->server));
  if (!outboundClient) return fail(outboundClient.status().message());
  options.outbound = std::move(*outboundClient);
  std::optional<fetch::ModuleStore> moduleStore;
  std::unique_ptr<WasmOperatorController> controller;
  const auto pod = podFromEnvironment(config->defaultNamespace);
  auto slot = std::make_shared<ControllerSlot>(pod);
  auto lifecycle = std::make_shared<LifecycleEvents>(
      [slot](const std::string& name) { return slot->regarding(name); });
  slot->setEvents(lifecycle);
  if (pod || !definitions) options.lifecycle = slot;
  // Before anything is opened: one file per distinct compiled module (common/open_files.h).
  const auto openFileLimit = common::raiseOpenFileLimit();
  HostProcess process(*config, clientOptions(flags), options, logFormat(flags));
  runtime::OperatorHost& host = process.host();
  if (openFileLimit && openFileLimit->soft != openFileLimit->softBefore) {
    host.log("", WOP_LOG_INFO,
             "open files: soft limit raised from " + std::to_string(openFileLimit->softBefore) +
                 " to the hard limit " + std::to_string(openFileLimit->soft));
  }
  std::unique_ptr<LifecycleEvents::Session> events;  // ends before the client
  if (pod || !definitions) {
    events = lifecycle->start(process.client(), [&host](std::string_view line) {
      host.log("", WOP_LOG_WARN, "events: " + std::string(line));
    });
    host.log("", WOP_LOG_INFO,
             definitions ? "lifecycle Events regard Pod " + pod->ns + "/" + pod->name
                         : std::string("lifecycle Events regard each WasmOperator"));
  } else {
    host.log("", WOP_LOG_INFO, "POD_NAME is not set: no lifecycle Events are sent");
  }

  std::unique_ptr<Coordination> coordination;
  if (*election && *shards > 1) {
    coordination = std::make_unique<Sharding>(host, process.client(), **election, *shards);
  } else if (*election) {
    coordination = std::make_unique<Leadership>(host, process.client(), **election);
  }
  std::atomic<bool> loaded{false};
  HealthChecks healthz;
  HealthChecks readyz;
  (void)healthz.add("ping", pingCheck);
  addReadinessChecks(
      readyz, host,
      [&loaded, &controller] { return controller ? controller->synced() : loaded.load(); },
      coordination.get());
  ExtraMetrics metricsExtras;
  if (coordination) metricsExtras.leases = [&coordination] { return coordination->leases(); };
  if (events) metricsExtras.events = &events->counters();
  auto endpoints = Endpoints::start(
      {*flags.text("metrics-bind-address"), *flags.text("health-probe-bind-address")}, host,
      process.client(), healthz, readyz, metricsExtras);
  if (!endpoints) return fail(endpoints.status().message());
  if (!(*endpoints)->metricsAddress().empty()) {
    host.log("", WOP_LOG_INFO, "metrics at http://" + (*endpoints)->metricsAddress() + "/metrics");
  }
  if (!(*endpoints)->healthAddress().empty()) {
    host.log("", WOP_LOG_INFO, "health probes at http://" + (*endpoints)->healthAddress());
  }
  if (coordination) {
    if (auto started = coordination->start(); !started.isOk()) return fail(started.message());
  }

  if (definitions) {
    int refused = 0;
    for (const auto& status : host.addAll(specs, kParallelLoads)) {
      if (!status.isOk()) {
        host.log("", WOP_LOG_ERROR, status.message());
        ++refused;
      }
    }
    host.log("", WOP_LOG_INFO,
             std::to_string(specs.size() - refused) + " operator(s) running, " +
                 std::to_string(refused) + " refused");
  } else {
    moduleStore.emplace(host.artifactDirectory() + "/modules");
    // Every replica loads every operator (warm, as a follower); the one taking an operator's
    // keys writes its status.
    controller = std::make_unique<WasmOperatorController>(
        host, process.client(),
        std::make_unique<fetch::ModuleFetcher>(process.client(), *moduleStore, *moduleDownloads,
                                               limits::kMaxModuleBytes),
        WasmOperatorControllerOptions{.hostNamespace = config->defaultNamespace,
                                      .lifecycle = slot.get(),
                                      .writesStatus = [&host](const std::string& name) {
                                        return host.takingKeys(host.shardOf(name));
                                      }});
    controller->start();
    slot->attach(controller.get());
    host.log("", WOP_LOG_INFO, "running the cluster's WasmOperator objects");
  }
  loaded = true;
  for (;;) {
    const bool terminate = process.waitForTermination(std::chrono::seconds(1));
    if (statusFile) writeStatus(*statusFile, statusJson(host, wakeLatency.get()));
    if (terminate) break;
  }
  drain(host, *flags.duration("graceful-shutdown-timeout"));
  slot->attach(nullptr);
  controller.reset();
  if (coordination) coordination->stop();
  const auto summary = statusJson(host);
  host.log("", WOP_LOG_INFO, "shutting down: " + summary.dump());
  return 0;
}

}  // namespace wop::server
