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
//   Both take the flags of `wasm-operator run` that say where the cluster is and how the
//   client and the host run: --kubeconfig, --context, --workers, --qps, --burst (the same
//   declarations, bounds and defaults: server/cluster_flags.h). `native-ring --help` lists them.
//
// The client and the host are built as `wasm-operator run` builds them, by the same code
// (server::clientConfig, clientOptions, hostOptions, HostProcess): same kubeconfig loading,
// client defaults (QPS, burst), host options (workers, permission checks, which are a no-op
// without a ServiceAccount, as in a run without one). Runs until SIGINT/SIGTERM and exits 0;
// a command line it cannot accept exits 2 with one line saying why.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "native/native_operator_guest.h"
#include "runtime/operator_host.h"
#include "server/cluster_flags.h"
#include "server/flag_set.h"
#include "server/host_process.h"
#include "wop/operator.h"
#include "wop_abi.h"

namespace {

using namespace wop;
using server::Flag;
using server::FlagSet;
using server::ParsedFlags;

constexpr int64_t kMaxRing = 10'000;

FlagSet ringFlags() {
  FlagSet flags("native-ring",
                "Runs the ring operator compiled natively (no Wasm) on the operator runtime: one "
                "operator carrying I to O, or N operators carrying ring-i to ring-((i+1) mod N).",
                "(--input-namespace I --output-namespace O [--name N] | --ring N) [flags]");
  flags.add(Flag::text("input-namespace", "I", "the namespace the operator reads"));
  flags.add(Flag::text("output-namespace", "O", "the namespace the operator writes"));
  flags.add(Flag::text("name", "N", "the operator's name (default: the input namespace)"));
  flags.add(Flag::integer("ring", "N", "run N ring operators ring-0..ring-(N-1) in this process", 1,
                          kMaxRing));
  flags.add(server::clusterFlags());
  return flags;
}

runtime::OperatorSpec ringSpec(std::string name, const std::string& input,
                               const std::string& output) {
  runtime::OperatorSpec spec;
  spec.name = std::move(name);
  spec.trusted = true;  // the benchmark's operators act as the host, as the client-go ones do
  spec.configJson = nlohmann::json{{"inputNamespace", input}, {"outputNamespace", output}}.dump();
  return spec;
}

// The operators this invocation runs, or why the flags do not say which.
common::Result<std::vector<runtime::OperatorSpec>> ringSpecs(const ParsedFlags& flags) {
  using common::Status;
  using common::StatusCode;
  auto ring = flags.integer("ring");
  auto input = flags.text("input-namespace");
  auto output = flags.text("output-namespace");
  std::vector<runtime::OperatorSpec> specs;
  if (ring) {
    if (input || output) {
      return Status(StatusCode::kInvalidArgument,
                    "--ring excludes --input-namespace/--output-namespace");
    }
    for (int64_t i = 0; i < *ring; ++i) {
      const std::string name = "ring-" + std::to_string(i);
      specs.push_back(ringSpec(name, name, "ring-" + std::to_string((i + 1) % *ring)));
    }
    return specs;
  }
  if (!input || !output) {
    return Status(StatusCode::kInvalidArgument,
                  "needs --ring N, or --input-namespace and --output-namespace");
  }
  specs.push_back(ringSpec(flags.text("name").value_or(*input), *input, *output));
  return specs;
}

}  // namespace

int main(int argc, char** argv) {
  const FlagSet declared = ringFlags();
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto flags = server::parseCommandLine(declared, args, std::cout, std::cerr);
  if (!flags) return flags.error();  // help printed (0) or the command line refused (2)
  auto specs = ringSpecs(*flags);
  if (!specs) return server::reportUsageError(declared, specs.status().message(), std::cerr);
  auto config = server::clientConfig(*flags);
  if (!config) {
    std::cerr << "native-ring: " << config.status().message() << "\n";
    return 1;
  }

  server::HostProcess process(*config, server::clientOptions(*flags), server::hostOptions(*flags),
                              server::logFormat(*flags));
  runtime::OperatorHost& host = process.host();

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

  while (!process.waitForTermination(std::chrono::hours(1))) {
  }
  host.log("", WOP_LOG_INFO, "shutting down");
  return 0;
}
