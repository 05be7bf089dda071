#include "server/cluster_flags.h"

#include <limits>

#include "wop_abi.h"

namespace wop::server {
namespace {

// The API server serves one watch instead of one per namespace from this many namespaces on;
// below it, caching every namespace's objects would cost the host more than the watches cost.
constexpr int64_t kDefaultClusterWideWatchAfter = 32;
constexpr int64_t kMaxClusterWideWatchAfter = 1'000'000;

}  // namespace

std::vector<Flag> clusterFlags() {
  const kube::ClientOptions client;
  const runtime::HostOptions host;
  return {
      Flag::text("kubeconfig", "K",
                 "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)"),
      Flag::text("context", "C", "kubeconfig context (default: its current-context)"),
      Flag::integer("workers", "N", "threads running guest code", 1, kMaxWorkers)
          .withDefault(int64_t{host.workers}),
      // Negative values stay allowed: the ring benchmark turns the limiter off with --qps -1.
      Flag::number("qps", "Q",
                   "the API client's requests per second for the whole process; 0 or less: "
                   "no limit",
                   -std::numeric_limits<double>::infinity(), kMaxQps)
          .withDefault(client.qps),
      Flag::integer("burst", "B", "requests the API client may send at once above --qps", 1,
                    kMaxBurst)
          .withDefault(int64_t{client.burst}),
      Flag::integer("cluster-wide-watch-after", "N",
                    "namespaces of one resource watched before the rest share one cluster-wide "
                    "watch, filtered in the host, if the host may list and watch it cluster-wide "
                    "(0: one watch per namespace)",
                    0, kMaxClusterWideWatchAfter)
          .withDefault(kDefaultClusterWideWatchAfter),
      Flag::choice("log-format", "how log lines are written", {"logfmt", "json"})
          .withDefault("logfmt"),
      Flag::choice("log-level", "the least severe lines written",
                   {runtime::logLevelName(WOP_LOG_DEBUG), runtime::logLevelName(WOP_LOG_INFO),
                    runtime::logLevelName(WOP_LOG_WARN), runtime::logLevelName(WOP_LOG_ERROR)})
          .withDefault(runtime::logLevelName(WOP_LOG_INFO)),
  };
}

common::Result<kube::ClientConfig> clientConfig(const ParsedFlags& flags) {
  auto options = kube::kubeconfigOptionsFromEnvironment();
  if (flags.given("kubeconfig")) options.explicitPath = *flags.text("kubeconfig");
  if (flags.given("context")) options.contextOverride = *flags.text("context");
  auto inCluster = kube::inClusterOptionsFromEnvironment();
  if (options.explicitPath.empty() && options.kubeconfigEnv.empty() &&
      !inCluster.serviceHost.empty()) {
    return kube::loadInCluster(inCluster);
  }
  return kube::loadKubeconfig(options);
}

kube::ClientOptions clientOptions(const ParsedFlags& flags) {
  kube::ClientOptions options;
  if (auto qps = flags.number("qps")) options.qps = *qps;
  if (auto burst = flags.integer("burst")) options.burst = static_cast<int>(*burst);
  return options;
}

runtime::HostOptions hostOptions(const ParsedFlags& flags) {
  runtime::HostOptions options;
  if (auto workers = flags.integer("workers")) options.workers = static_cast<int>(*workers);
  options.clusterWideWatchAfter = static_cast<size_t>(
      flags.integer("cluster-wide-watch-after").value_or(kDefaultClusterWideWatchAfter));
  // The flag's choices are the level names, so any value it took has a level.
  options.logLevel =
      runtime::logLevelFromName(flags.text("log-level").value_or("info")).value_or(WOP_LOG_INFO);
  return options;
}

runtime::LogFormat logFormat(const ParsedFlags& flags) {
  return flags.text("log-format") == "json" ? runtime::LogFormat::kJson
                                            : runtime::LogFormat::kLogfmt;
}

}  // namespace wop::server
