// Benchmarks of the operator runtime against a real control plane (run by bench/runtime/run.py):
//   rss      --operators N    host resident memory with N ring operators running, idle
//   latency  --ring N --cycles C   change-to-reconcile delay per hop and ring round trips
//   waiting  --operators N    N reconciles waiting on a slow API server at once: thread count
// Each prints one JSON object on stdout.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <wasmtime.hh>

#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "runtime/figure_recorder.h"
#include "runtime/operator_host.h"
#include "server/run_command.h"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

const wop::kube::ResourceInfo kNamespaces{{"", "v1", "namespaces"}, "Namespace", false};
const wop::kube::ResourceInfo kConfigMaps{{"", "v1", "configmaps"}, "ConfigMap", true};
const wop::kube::ResourceInfo kTestResources{
    {"bench.wasm-operator.dev", "v1", "testresources"}, "TestResource", true};

struct Args {
  std::string mode, kubeconfig, wasmDir, sourceDir, artifacts;
  int operators = 0, ring = 10, cycles = 200, workers = 2;
};

int threadCount() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index =
      std::min(values.size() - 1, static_cast<size_t>(p * (values.size() - 1) + 0.5));
  return values[index];
}

bool waitUntil(const std::function<bool()>& condition, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

void ensureNamespace(wop::kube::Client& client, const std::string& name) {
  (void)client.create(
      kNamespaces, "",
      Json({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}}).dump());
}

int64_t nonceIn(wop::kube::Client& client, const std::string& ns, const std::string& name) {
  auto object = client.get(kTestResources, ns, name);
  if (!object) return -1;
  return Json::parse(*object)["spec"].value("nonce", int64_t{-1});
}

void setNonce(wop::kube::Client& client, const std::string& ns, const std::string& name,
              int64_t nonce) {
  auto patched = client.patch(kTestResources, ns, name, wop::kube::PatchType::kJsonMerge,
                              Json({{"spec", {{"nonce", nonce}}}}).dump());
  if (!patched) {
    (void)client.create(kTestResources, ns,
                        Json({{"apiVersion", "bench.wasm-operator.dev/v1"},
                              {"kind", "TestResource"},
                              {"metadata", {{"name", name}}},
                              {"spec", {{"nonce", nonce}}}})
                            .dump());
  }
}

std::string compileWat(const std::string& watPath, const std::string& outDir) {
  std::ifstream in(watPath);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto bytes = wasmtime::wat2wasm(text).unwrap();
  const std::string out = outDir + "/waiter.wasm";
  std::ofstream(out, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  return out;
}

void addRing(wop::runtime::OperatorHost& host, wop::kube::Client& client, const Args& args, int n) {
  for (int i = 0; i < n; ++i) ensureNamespace(client, "bench-ring-" + std::to_string(i));
  for (int i = 0; i < n; ++i) {
    Json config = {{"inputNamespace", "bench-ring-" + std::to_string(i)},
                   {"outputNamespace", "bench-ring-" + std::to_string((i + 1) % n)}};
    auto status = host.add({.name = "ring-" + std::to_string(i),
                            .modulePath = args.wasmDir + "/ring.wasm",
                            .serviceAccountNamespace = "wasm-operators-ring",
                            .serviceAccountName = "ring-" + std::to_string(i),
                            .configJson = config.dump()});
    if (!status.isOk()) {
      std::cerr << status.toString() << "\n";
      std::exit(1);
    }
  }
}

Json benchRss(wop::runtime::OperatorHost& host, wop::kube::Client& client, const Args& args) {
  const size_t before = wop::server::residentBytes();
  addRing(host, client, args, args.operators);
  if (args.operators > 0) {
    // One lap of the ring, so every operator has reconciled (and allocated what it uses).
    setNonce(client, "bench-ring-0", "rss", 1);
    waitUntil(
        [&] {
          return nonceIn(client, "bench-ring-" + std::to_string(args.operators - 1), "rss") >= 1;
        },
        std::chrono::seconds(120));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  uint64_t linear = 0;
  for (const auto& s : host.stats()) linear += s.memoryBytes;
  return {{"operators", args.operators},
          {"host_rss_bytes", wop::server::residentBytes()},
          {"rss_before_operators_bytes", before},
          {"linear_memory_bytes", linear},
          {"threads", threadCount()}};
}

// Change-to-reconcile delays of the host under test.
const auto figures = std::make_shared<wop::runtime::FigureRecorder>();

Json benchLatency(wop::runtime::OperatorHost& host, wop::kube::Client& client, const Args& args) {
  addRing(host, client, args, args.ring);
  const std::string last = "bench-ring-" + std::to_string(args.ring - 1);
  setNonce(client, "bench-ring-0", "lap", 1);
  waitUntil([&] { return nonceIn(client, last, "lap") >= 1; }, std::chrono::seconds(60));
  figures->takeLatencySamples();  // warm-up done
  std::vector<double> laps;
  for (int cycle = 2; cycle < args.cycles + 2; ++cycle) {
    const auto start = Clock::now();
    setNonce(client, "bench-ring-0", "lap", cycle);
    if (!waitUntil([&] { return nonceIn(client, last, "lap") >= cycle; },
                   std::chrono::seconds(30))) {
      std::cerr << "cycle " << cycle << " did not complete\n";
      std::exit(1);
    }
    laps.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  auto samples = figures->takeLatencySamples();
  return {{"ring", args.ring},
          {"cycles", args.cycles},
          {"samples", samples.size()},
          {"change_to_reconcile_ms_p50", percentile(samples, 0.5)},
          {"change_to_reconcile_ms_p99", percentile(samples, 0.99)},
          {"ring_round_trip_ms_p50", percentile(laps, 0.5)},
          {"ring_round_trip_ms_p99", percentile(laps, 0.99)},
          {"hop_ms_p50", percentile(laps, 0.5) / args.ring}};
}

Json benchWaiting(wop::runtime::OperatorHost& host, wop::kube::Client& client, const Args& args) {
  ensureNamespace(client, "bench-wait");
  const std::string module =
      compileWat(args.sourceDir + "/bench/guests/waiter.wat", args.artifacts);
  for (int i = 0; i < args.operators; ++i) {
    // The waiters call no API, so they need no ServiceAccount; without one an operator is
    // refused unless trusted (since c9b238e, which stopped this mode until this was set).
    auto status =
        host.add({.name = "waiter-" + std::to_string(i), .modulePath = module, .trusted = true});
    if (!status.isOk()) {
      std::cerr << status.toString() << "\n";
      std::exit(1);
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const int threadsIdle = threadCount();
  const size_t rssIdle = wop::server::residentBytes();
  auto apiCalls = [&] {
    uint64_t total = 0;
    for (const auto& s : host.stats()) total += s.apiCalls;
    return total;
  };
  auto reconciles = [&] {
    uint64_t total = 0;
    for (const auto& s : host.stats()) total += s.reconciles;
    return total;
  };
  const auto start = Clock::now();
  (void)client.create(
      kConfigMaps, "bench-wait",
      Json({{"metadata",
             {{"name", "go-" + std::to_string(::getpid())}, {"labels", {{"wait", "yes"}}}}}})
          .dump());
  // Every operator has its call in flight once each has made one and none has finished.
  waitUntil([&] { return apiCalls() >= static_cast<uint64_t>(args.operators); },
            std::chrono::seconds(60));
  const double allWaitingAfter = std::chrono::duration<double>(Clock::now() - start).count();
  const uint64_t finishedWhileWaiting = reconciles();
  const int threadsWaiting = threadCount();
  const size_t rssWaiting = wop::server::residentBytes();
  waitUntil([&] { return reconciles() >= static_cast<uint64_t>(args.operators); },
            std::chrono::seconds(120));
  const double allDone = std::chrono::duration<double>(Clock::now() - start).count();
  return {{"operators", args.operators},
          {"workers", host.workerCount()},
          {"threads_idle", threadsIdle},
          {"threads_while_waiting", threadsWaiting},
          {"calls_in_flight_at_sample", apiCalls() - finishedWhileWaiting},
          {"seconds_until_all_waiting", allWaitingAfter},
          {"seconds_until_all_done", allDone},
          {"host_rss_bytes_idle", rssIdle},
          {"host_rss_bytes_while_waiting", rssWaiting}};
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  args.mode = argc > 1 ? argv[1] : "";
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--kubeconfig") args.kubeconfig = value;
    if (flag == "--wasm-dir") args.wasmDir = value;
    if (flag == "--source-dir") args.sourceDir = value;
    if (flag == "--artifacts") args.artifacts = value;
    if (flag == "--operators") args.operators = std::stoi(value);
    if (flag == "--ring") args.ring = std::stoi(value);
    if (flag == "--cycles") args.cycles = std::stoi(value);
  }
  wop::kube::KubeconfigOptions options;
  options.explicitPath = args.kubeconfig;
  auto config = wop::kube::loadKubeconfig(options);
  if (!config) {
    std::cerr << config.status().toString() << "\n";
    return 1;
  }
  wop::kube::Client client(*config, {.qps = 0});
  wop::runtime::OperatorHost host(
      client, {.workers = args.workers, .artifactDirectory = args.artifacts, .observer = figures},
      [](const wop::runtime::LogRecord& record) {
        if (record.level >= 2) wop::runtime::stderrLogSink()(record);
      });
  Json result;
  if (args.mode == "rss")
    result = benchRss(host, client, args);
  else if (args.mode == "latency")
    result = benchLatency(host, client, args);
  else if (args.mode == "waiting")
    result = benchWaiting(host, client, args);
  else {
    std::cerr << "usage: runtime_bench rss|latency|waiting --kubeconfig K --wasm-dir D ...\n";
    return 2;
  }
  std::cout << result.dump() << std::endl;
  std::_Exit(0);  // skip tearing down hundreds of operators: the process is measured, not its exit
}
