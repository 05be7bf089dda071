// native-ring: the ring operator (operators/ring/ring.cc, the same source as ring.wasm)
// compiled natively and run on the operator runtime without Wasm, for the ring benchmark's
// `native` and `combined` setups (bench/ring/run.py, docs/benchmarks.md).
//
//   native-ring --kubeconfig K --input-namespace ring-i --output-namespace ring-j [--name N]
//       One ring operator (named N, default the input namespace): the `native` setup, one
//       process per operator as a pod would run it.
//   native-ring --kubeconfig K --ring N
//       N ring operators ring-0..ring-(N-1) in this process, operator i carrying ring-i to
//       ring-((i+1) mod N): the `combined` setup, no isolation at all.
//   Both take [--context C] [--workers W] [--qps Q] [--burst B], as `wasm-operator run` does.
//
// The client and the host are built as `wasm-operator run` builds them (server/run_command.cc):
// same kubeconfig loading, client defaults (QPS, burst), host options (workers, permission
// checks, which are a no-op without a ServiceAccount, as in a run without one). Runs until
// SIGINT/SIGTERM and exits 0.
#include <signal.h>

#include <charconv>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "native/native_operator_guest.h"
#include "runtime/operator_host.h"
#include "server/run_command.h"
#include "wop/operator.h"
#include "wop_abi.h"

namespace {

using namespace wop;

constexpr const char* kUsage =
    "usage: native-ring [--kubeconfig K] [--context C] [--workers W] [--qps Q] [--burst B] "
    "(--input-namespace I --output-namespace O [--name N] | --ring N)\n";
constexpr long kMaxRing = 10'000;

int fail(const std::string& message) {
  std::cerr << "native-ring: " << message << "\n";
  return 1;
}

// Parses "--key value" pairs; returns false on a flag without a value.
bool parseFlags(int argc, char** argv, std::map<std::string, std::string>& flags) {
  for (int i = 1; i < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0 || i + 1 >= argc) return false;
    flags[key.substr(2)] = argv[i + 1];
  }
  return true;
}

bool parseCount(const std::string& text, long max, long& out) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size() && out > 0 && out <= max;
}

runtime::OperatorSpec ringSpec(std::string name, const std::string& input,
                               const std::string& output) {
  runtime::OperatorSpec spec;
  spec.name = std::move(name);
  spec.configJson = nlohmann::json{{"inputNamespace", input}, {"outputNamespace", output}}.dump();
  return spec;
}

// The operators this invocation runs, or an error message.
common::Result<std::vector<runtime::OperatorSpec>> ringSpecs(
    const std::map<std::string, std::string>& flags) {
  using common::Status;
  using common::StatusCode;
  auto ring = flags.find("ring");
  auto input = flags.find("input-namespace");
  auto output = flags.find("output-namespace");
  std::vector<runtime::OperatorSpec> specs;
  if (ring != flags.end()) {
    long n = 0;
    if (input != flags.end() || output != flags.end()) {
      return Status(StatusCode::kInvalidArgument,
                    "--ring excludes --input-namespace/--output-namespace");
    }
    if (!parseCount(ring->second, kMaxRing, n)) {
      return Status(StatusCode::kInvalidArgument,
                    "--ring must be an integer from 1 to " + std::to_string(kMaxRing));
    }
    for (long i = 0; i < n; ++i) {
      const std::string name = "ring-" + std::to_string(i);
      specs.push_back(ringSpec(name, name, "ring-" + std::to_string((i + 1) % n)));
    }
    return specs;
  }
  if (input == flags.end() || output == flags.end()) {
    return Status(StatusCode::kInvalidArgument,
                  "needs --ring N, or --input-namespace and --output-namespace");
  }
  auto name = flags.find("name");
  specs.push_back(
      ringSpec(name != flags.end() ? name->second : input->second, input->second, output->second));
  return specs;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  if (!parseFlags(argc, argv, flags)) {
    std::cerr << kUsage;
    return 2;
  }
  auto specs = ringSpecs(flags);
  if (!specs) return fail(specs.status().message() + "\n" + kUsage);
  auto config = server::clientConfig(flags);
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
  // The API client's rate limit for the whole process, as in `wasm-operator run`; qps <= 0: none.
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

  // One factory for all: each guest gets its own Ring object (and SDK Runtime).
  auto factory = std::make_shared<bench::NativeGuestFactory>(&sdk::detail::newOperator);
  int refused = 0;
  for (const auto& spec : *specs) {
    if (auto status = host.add(spec, factory); !status.isOk()) {
      host.log("", WOP_LOG_ERROR, status.message());
      ++refused;
    }
  }
  int running = 0;
  for (const auto& stats : host.stats()) running += stats.state == runtime::OperatorState::kRunning;
  host.log("", WOP_LOG_INFO,
           std::to_string(running) + " native operator(s) running, " + std::to_string(refused) +
               " refused, " + std::to_string(specs->size() - refused - running) +
               " starting or in backoff");

  for (;;) {
    const int signal = sigwaitinfo(&signals, nullptr);
    if (signal == SIGINT || signal == SIGTERM) break;
  }
  host.log("", WOP_LOG_INFO, "shutting down");
  return 0;
}
