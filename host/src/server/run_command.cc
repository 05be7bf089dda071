#include "server/run_command.h"

#include <malloc.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "runtime/operator_host.h"
#include "server/operator_definitions.h"
#include "wop_abi.h"

namespace wop::server {
namespace {

int fail(const std::string& message) {
  std::cerr << "wasm-operator: " << message << "\n";
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
          {"linearMemoryBytes", linearMemoryBytes}};
}

nlohmann::json statusJson(runtime::OperatorHost& host) {
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
                           {"snapshotFaults", s.snapshotFaults},
                           {"snapshotBytes", s.snapshotBytes},
                           {"wakesResident", s.wakesResident},
                           {"wakesSwapped", s.wakesSwapped},
                           {"residentSeconds", s.residentSeconds},
                           {"lastRestoreMs", s.lastRestoreMs},
                           {"lastSwapOutMs", s.lastSwapOutMs}}}});
  }
  const size_t resident = residentBytes();  // one read of /proc/self/status per status write
  return {{"operators", operators},
          {"hostResidentBytes", resident},
          {"memory", memoryJson(host, resident, linearMemoryBytes)}};
}

void writeStatus(const std::string& path, const nlohmann::json& status) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << status.dump(2) << "\n";
  }
  std::rename(tmp.c_str(), path.c_str());
}

// --swap on|off (default on), --swap-dir D, --swap-idle-ms N (default 2000), --swap-predict on|off.
common::Result<runtime::SwapOptions> swapOptions(const std::map<std::string, std::string>& flags) {
  runtime::SwapOptions swap;
  swap.enabled = true;
  auto onOff = [&](const char* name, bool* value) -> common::Status {
    auto it = flags.find(name);
    if (it == flags.end()) return common::Status::ok();
    if (it->second != "on" && it->second != "off") {
      return common::Status(common::StatusCode::kInvalidArgument,
                            std::string("--") + name + " must be on or off");
    }
    *value = it->second == "on";
    return common::Status::ok();
  };
  if (auto s = onOff("swap", &swap.enabled); !s.isOk()) return s;
  if (auto s = onOff("swap-predict", &swap.predict); !s.isOk()) return s;
  if (auto it = flags.find("swap-dir"); it != flags.end()) swap.directory = it->second;
  if (auto it = flags.find("swap-idle-ms"); it != flags.end()) {
    char* end = nullptr;
    const long long ms = std::strtoll(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0' || ms < 0 || ms > 86'400'000) {
      return common::Status(common::StatusCode::kInvalidArgument,
                            "--swap-idle-ms must be milliseconds from 0 to 86400000");
    }
    swap.idleAfter = std::chrono::milliseconds(ms);
  }
  return swap;
}

}  // namespace

common::Result<kube::ClientConfig> clientConfig(const std::map<std::string, std::string>& flags) {
  auto options = kube::kubeconfigOptionsFromEnvironment();
  if (auto it = flags.find("kubeconfig"); it != flags.end()) options.explicitPath = it->second;
  if (auto it = flags.find("context"); it != flags.end()) options.contextOverride = it->second;
  auto inCluster = kube::inClusterOptionsFromEnvironment();
  if (options.explicitPath.empty() && options.kubeconfigEnv.empty() &&
      !inCluster.serviceHost.empty()) {
    return kube::loadInCluster(inCluster);
  }
  return kube::loadKubeconfig(options);
}

size_t residentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

int runCommand(const std::map<std::string, std::string>& flags) {
  auto operatorsPath = flags.find("operators");
  if (operatorsPath == flags.end()) return fail("run needs --operators FILE_OR_FOLDER");
  auto specs = loadOperatorDefinitions(operatorsPath->second);
  if (!specs) return fail(specs.status().message());
  auto config = clientConfig(flags);
  if (!config) return fail(config.status().message());

  // Block the signals in every thread; this one waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  runtime::HostOptions options;
  if (auto it = flags.find("workers"); it != flags.end())
    options.workers = std::max(1, std::atoi(it->second.c_str()));
  if (auto it = flags.find("artifact-dir"); it != flags.end())
    options.artifactDirectory = it->second;
  if (auto swap = swapOptions(flags); swap) {
    options.swap = *swap;
  } else {
    std::cerr << "wasm-operator: " << swap.status().message() << "\n";
    return 2;
  }
  // The API client's rate limit for the whole process (the ring benchmark sets every setup's
  // clients alike); qps <= 0 disables the limiter.
  kube::ClientOptions clientOptions;
  if (auto it = flags.find("qps"); it != flags.end()) {
    clientOptions.qps = std::atof(it->second.c_str());
  }
  if (auto it = flags.find("burst"); it != flags.end()) {
    clientOptions.burst = std::max(1, std::atoi(it->second.c_str()));
  }
  kube::Client client(*config, clientOptions);
  runtime::OperatorHost host(client, options);
  host.log("", WOP_LOG_INFO, "connected to " + config->server + " (" + config->source + ")");

  int refused = 0;
  for (const auto& spec : *specs) {
    if (auto status = host.add(spec); !status.isOk()) {
      host.log("", WOP_LOG_ERROR, status.message());
      ++refused;
    }
  }
  host.log("", WOP_LOG_INFO,
           std::to_string(specs->size() - refused) + " operator(s) running, " +
               std::to_string(refused) + " refused");
  const auto statusFile = flags.find("status-file");
  for (;;) {
    timespec timeout{1, 0};
    const int signal = sigtimedwait(&signals, nullptr, &timeout);
    if (statusFile != flags.end()) writeStatus(statusFile->second, statusJson(host));
    if (signal == SIGINT || signal == SIGTERM) break;
  }
  const auto summary = statusJson(host);
  host.log("", WOP_LOG_INFO, "shutting down: " + summary.dump());
  return 0;
}

}  // namespace wop::server
