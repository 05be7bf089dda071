// `wasm-operator run`: runs the operators of a definitions file or folder against a cluster
// until SIGINT/SIGTERM, then prints a summary.
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "kube/kubeconfig.h"

namespace wop::server {

// flags: kubeconfig, context, operators (required), workers, artifact-dir, status-file,
// qps and burst (the API client's rate limit for the whole process; qps <= 0: none).
int runCommand(const std::map<std::string, std::string>& flags);

// The API client's configuration from --kubeconfig and --context, else KUBECONFIG and
// ~/.kube/config, else in-cluster (the order kubectl and client-go use).
common::Result<kube::ClientConfig> clientConfig(const std::map<std::string, std::string>& flags);

// Resident memory of this process in bytes (VmRSS).
size_t residentBytes();

}  // namespace wop::server
