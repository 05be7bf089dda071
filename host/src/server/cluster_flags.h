// The flags of every command that runs operators against a cluster (`wasm-operator run`, and
// the ring benchmark's native-ring, which must be configured exactly like it), and the client
// and host options built from them: one declaration, one reading.
#pragma once

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "runtime/operator_host.h"
#include "server/flag_set.h"

namespace wop::server {

// Bounds of the flags: more workers than this only adds contention on a host's cores; the
// API server would refuse rates near these long before the client reached them.
inline constexpr int64_t kMaxWorkers = 256;
inline constexpr double kMaxQps = 100'000;
inline constexpr int64_t kMaxBurst = 100'000;

// --kubeconfig K, --context C, --workers N, --qps Q, --burst B, --log-format F, --log-level L;
// defaults are those of kube::ClientOptions and runtime::HostOptions, so help shows what an
// absent flag means.
std::vector<Flag> clusterFlags();

// The API client's configuration from --kubeconfig and --context, else KUBECONFIG and
// ~/.kube/config, else in-cluster (the order kubectl and client-go use).
common::Result<kube::ClientConfig> clientConfig(const ParsedFlags& flags);

// The API client's rate limit for the whole process from --qps and --burst (qps <= 0: none).
kube::ClientOptions clientOptions(const ParsedFlags& flags);

// The worker threads from --workers and the log level from --log-level; the rest at
// HostOptions' defaults (a command adds its own flags' settings on top).
runtime::HostOptions hostOptions(const ParsedFlags& flags);

// --log-format: logfmt (default) or json.
runtime::LogFormat logFormat(const ParsedFlags& flags);

}  // namespace wop::server
