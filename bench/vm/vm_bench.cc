// The address space and the bounds checks of guest memories (bench/vm/run.py,
// docs/benchmarks/vm.md), without a control plane:
//   resident --module M --counts 100,1000,...   N instances of module M kept resident, as
//       OperatorHost makes them (ABI v1 linker, wop_init run): VmSize, maps, RSS at each count;
//       stops at the first instance that cannot be made and says why. --restored 1: each
//       instance is restored from a snapshot of one that ran wop_init (as a swapped-out
//       operator comes back), its memory mapped copy-on-write from the snapshot's layer file.
//   bounds --loop-wat W --json-wasm J --repeats K   times a memory-heavy WAT guest (sweep,
//       gather) and a compiled C++ guest (a JSON round trip), K times each after one warm-up.
// Both take --reservation-mib R (0: Wasmtime's default; wasm/engine.h) and print one JSON
// object on stdout with every setting they ran with.
#include <time.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>
#include <wasmtime.hh>

#include "hostcalls/abi_v1.h"
#include "hostcalls/operator_services.h"
#include "runtime/wasm_operator_guest.h"
#include "snapshot/operator_snapshot.h"
#include "wasm/engine.h"
#include "wasm/guest_instance.h"
#include "wasm/module_cache.h"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;
namespace hostcalls = wop::hostcalls;
namespace runtime = wop::runtime;
namespace wasm = wop::wasm;

constexpr uint64_t kMiB = 1ull << 20;

[[noreturn]] void die(const std::string& what) {
  std::cerr << "vm_bench: " << what << "\n";
  std::exit(1);
}

template <typename T>
T check(wop::common::Result<T> result, const std::string& what) {
  if (!result) die(what + ": " + result.status().toString());
  return std::move(*result);
}

void check(const wop::common::Status& status, const std::string& what) {
  if (!status.isOk()) die(what + ": " + status.toString());
}

struct Args {
  std::string mode, module, loopWat, jsonWasm, artifacts;
  uint64_t reservationMiB = 0;
  uint64_t limitMiB = 64;
  std::vector<uint64_t> counts;
  int repeats = 5;
  bool restored = false;
};

Args parse(int argc, char** argv) {
  if (argc < 2) die("usage: vm_bench resident|bounds [--flag value]...");
  Args args;
  args.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--module")
      args.module = value;
    else if (flag == "--loop-wat")
      args.loopWat = value;
    else if (flag == "--json-wasm")
      args.jsonWasm = value;
    else if (flag == "--artifacts")
      args.artifacts = value;
    else if (flag == "--reservation-mib")
      args.reservationMiB = std::stoull(value);
    else if (flag == "--limit-mib")
      args.limitMiB = std::stoull(value);
    else if (flag == "--repeats")
      args.repeats = std::stoi(value);
    else if (flag == "--restored")
      args.restored = value == "1";
    else if (flag == "--counts") {
      std::stringstream list(value);
      std::string item;
      while (std::getline(list, item, ',')) args.counts.push_back(std::stoull(item));
    } else
      die("unknown flag " + flag);
  }
  return args;
}

// The guests import the ABI; the benchmark answers every call with nothing.
class NoServices final : public hostcalls::OperatorServices {
 public:
  void log(int32_t, std::string_view) override {}
  std::string config() override { return "{}"; }
  hostcalls::HostResult<int32_t> declare(std::string_view) override { return int32_t{0}; }
  hostcalls::HostResult<std::string> cacheRead(std::string_view) override { return std::string(); }
  hostcalls::HostResult<uint32_t> apiCall(std::string_view) override { return uint32_t{0}; }
  hostcalls::HostResult<int32_t> reconcileDone(uint32_t, int32_t, int64_t,
                                               std::string_view) override {
    return int32_t{0};
  }
  hostcalls::HostResult<int32_t> emitKey(std::string_view) override { return int32_t{0}; }
  void contractViolation(std::string) override {}
};

struct ProcessFigures {
  uint64_t vmSizeBytes = 0, rssBytes = 0, maps = 0;
};

ProcessFigures processFigures() {
  ProcessFigures figures;
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmSize:", 0) == 0) figures.vmSizeBytes = std::stoull(line.substr(7)) * 1024;
    if (line.rfind("VmRSS:", 0) == 0) figures.rssBytes = std::stoull(line.substr(6)) * 1024;
  }
  std::ifstream maps("/proc/self/maps");
  while (std::getline(maps, line)) ++figures.maps;
  return figures;
}

Json figuresJson(const ProcessFigures& f) {
  return {{"vm_size_bytes", f.vmSizeBytes}, {"rss_bytes", f.rssBytes}, {"maps", f.maps}};
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Json engineSettings(const wasm::Engine& engine) {
  return {
      {"memory_reservation_bytes", engine.memoryReservation()},
      {"memory_guard_bytes", engine.explicitBoundsChecks() ? wasm::kSmallGuardBytes : 32 * kMiB},
      {"guard_before_memory", true},
      {"memory_may_move", !engine.explicitBoundsChecks()},
      {"explicit_bounds_checks", engine.explicitBoundsChecks()},
      // Not set by the host: Cranelift's enable_heap_access_spectre_mitigation stays on, so each
      // check also selects a null address for an out-of-bounds index.
      {"heap_access_spectre_mitigation", "Wasmtime's default (on)"},
      {"fingerprint", engine.fingerprint()}};
}

uint64_t sysctl(const char* path) {
  std::ifstream in(path);
  uint64_t value = 0;
  in >> value;
  return value;
}

int resident(const Args& args) {
  wasm::Engine engine({.memoryReservationBytes = args.reservationMiB * kMiB});
  wasm::ModuleCache modules(engine, args.artifacts);
  const uint64_t limit = args.limitMiB * kMiB;
  auto module = check(modules.load(args.module, hostcalls::abiV1Requirements(limit)),
                      "loading " + args.module);
  auto linker = check(wasm::GuestLinker::create(engine, hostcalls::defineAbiV1), "the ABI");
  auto prepared = check(linker->prepare(module), "preparing " + args.module);
  runtime::WasmGuestFactory factory(engine, std::move(prepared),
                                    wasm::InstanceLimits{limit, std::chrono::seconds(10)},
                                    "vm-bench", {});
  NoServices services;
  // --restored: one guest's memory after wop_init, saved once; every instance maps it.
  std::optional<wop::snapshot::OperatorSnapshot> snapshot;
  if (args.restored) {
    snapshot.emplace(args.artifacts + "/snapshot", module.identity());
    auto first = check(factory.create(services), "creating the guest to snapshot");
    check(first->init(), "wop_init");
    check(first->saveTo(*snapshot, false), "saving the snapshot");
  }
  auto make = [&]() -> wop::common::Result<std::unique_ptr<runtime::OperatorGuest>> {
    if (!snapshot) {
      auto guest = factory.create(services);
      if (!guest) return guest.status();
      if (auto init = (*guest)->init(); !init.isOk()) return init.withContext("wop_init");
      return guest;
    }
    auto plan = snapshot->open();
    if (!plan) return plan.status();
    return factory.restore(services, *snapshot, *plan);
  };
  std::vector<std::unique_ptr<runtime::OperatorGuest>> guests;
  Json points = Json::array();
  Json failure = nullptr;
  const ProcessFigures before = processFigures();
  uint64_t linearBytes = 0;
  const auto start = Clock::now();
  // Past vm.max_map_count every mmap fails, the process's own allocations included (a
  // std::bad_alloc ends it): the run stops kMapMargin maps short of it and says so.
  constexpr uint64_t kMapMargin = 256;
  const uint64_t mapLimit = sysctl("/proc/sys/vm/max_map_count");
  guests.reserve(args.counts.empty() ? 0 : args.counts.back());
  for (const uint64_t count : args.counts) {
    while (guests.size() < count) {
      if (guests.size() % 64 == 0 && processFigures().maps + kMapMargin > mapLimit) {
        failure = {{"instances", guests.size()},
                   {"error", "stopped " + std::to_string(kMapMargin) +
                                 " maps short of vm.max_map_count (" + std::to_string(mapLimit) +
                                 "): past it every mmap fails, malloc's included"},
                   {"map_limit", true}};
        break;
      }
      auto guest = make();
      if (!guest) {
        failure = {{"instances", guests.size()}, {"error", guest.status().message()}};
        break;
      }
      linearBytes += (*guest)->memoryBytes();
      guests.push_back(std::move(*guest));
    }
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    Json point = figuresJson(processFigures());
    point["instances"] = guests.size();
    point["linear_memory_bytes"] = linearBytes;
    point["seconds"] = seconds;
    points.push_back(point);
    if (!failure.is_null()) break;
  }
  Json out = {{"mode", "resident"},
              {"restored", args.restored},
              {"module", args.module},
              {"module_bytes", readFile(args.module).size()},
              {"memory_limit_bytes", limit},
              {"engine", engineSettings(engine)},
              {"before", figuresJson(before)},
              {"points", points},
              {"failure", failure},
              {"vm_max_map_count", sysctl("/proc/sys/vm/max_map_count")},
              {"vm_overcommit_memory", sysctl("/proc/sys/vm/overcommit_memory")}};
  std::cout << out.dump() << "\n";
  return 0;
}

// CPU time of the calling thread: what the guest's code took, without the time other
// processes on a shared machine held the core.
double threadCpuSeconds() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

struct Timings {
  std::vector<double> cpuSeconds, wallSeconds;
};

// Runs fn once to warm up, then repeats times, timing each.
template <typename Fn>
Timings timed(int repeats, Fn fn) {
  fn();
  Timings timings;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = Clock::now();
    const double cpu0 = threadCpuSeconds();
    fn();
    timings.cpuSeconds.push_back(threadCpuSeconds() - cpu0);
    timings.wallSeconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return timings;
}

constexpr const char* kConfigMap = R"({
  "apiVersion": "v1", "kind": "ConfigMap",
  "metadata": {"name": "settings", "namespace": "default", "labels": {"app": "demo"},
               "annotations": {"note": "a config map of a typical size for an operator"}},
  "data": {"mode": "fast", "replicas": "3", "image": "registry.example/app:1.2.3",
           "unicode": "gr\u00fc\u00dfe"}
})";

int bounds(const Args& args) {
  wasm::Engine engine({.memoryReservationBytes = args.reservationMiB * kMiB});
  const wasm::InstanceLimits limits{args.limitMiB * kMiB, std::chrono::seconds(60)};
  auto loopBytes = wasmtime::wat2wasm(readFile(args.loopWat));
  if (!loopBytes) die("bad " + args.loopWat + ": " + loopBytes.err().message());
  auto loopModule = check(wasm::GuestModule::compile(engine, loopBytes.unwrap(), "bounds_loop"),
                          "compiling bounds_loop");
  auto loop = check(wasm::GuestInstance::create(engine, loopModule, limits), "instantiating");
  constexpr uint64_t kWorkingSet = 16 * kMiB;
  check(loop.growMemoryTo(kWorkingSet), "growing bounds_loop");
  const auto bytes = wasmtime::Val(static_cast<int32_t>(kWorkingSet));
  constexpr int32_t kSweepPasses = 16;       // 64 Mi words loaded and stored
  constexpr int32_t kGatherLoads = 1 << 22;  // 4 Mi dependent loads
  auto sweep = timed(args.repeats, [&] {
    check(loop.enter("sweep", {bytes, wasmtime::Val(kSweepPasses)}), "sweep");
  });
  auto gather = timed(args.repeats, [&] {
    check(loop.enter("gather", {bytes, wasmtime::Val(kGatherLoads)}), "gather");
  });

  auto jsonModule = check(wasm::GuestModule::compileFile(engine, args.jsonWasm), "json_roundtrip");
  auto json = check(wasm::GuestInstance::create(engine, jsonModule, limits), "instantiating");
  constexpr int kRoundTrips = 20000;
  auto roundtrip = timed(args.repeats, [&] {
    for (int i = 0; i < kRoundTrips; ++i) check(json.callWithBytes("roundtrip", kConfigMap), "rt");
  });
  Json out = {{"mode", "bounds"},
              {"engine", engineSettings(engine)},
              {"repeats", args.repeats},
              {"workloads",
               {{{"name", "sweep"},
                 {"what", "load, add, store every word of 16 MiB, 16 passes"},
                 {"accesses", 2.0 * kSweepPasses * (kWorkingSet / 4)},
                 {"cpu_seconds", sweep.cpuSeconds},
                 {"wall_seconds", sweep.wallSeconds}},
                {{"name", "gather"},
                 {"what", "4 Mi dependent loads at pseudo-random words of 16 MiB"},
                 {"accesses", double{kGatherLoads}},
                 {"cpu_seconds", gather.cpuSeconds},
                 {"wall_seconds", gather.wallSeconds}},
                {{"name", "json_roundtrip"},
                 {"what", "parse and serialise a ConfigMap (C++ guest), 20,000 times"},
                 {"calls", kRoundTrips},
                 {"cpu_seconds", roundtrip.cpuSeconds},
                 {"wall_seconds", roundtrip.wallSeconds}}}}};
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  if (args.mode == "resident") return resident(args);
  if (args.mode == "bounds") return bounds(args);
  die("unknown mode " + args.mode);
}
