// A host process as `wasm-operator run` and the ring benchmark's native-ring run it: one
// Kubernetes client, one OperatorHost on it, and the main thread waiting for SIGINT/SIGTERM.
#pragma once

#include <signal.h>

#include <chrono>

#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "runtime/operator_host.h"

namespace wop::server {

class HostProcess {
 public:
  // Blocks SIGINT and SIGTERM in the calling thread before the client and the host start
  // their threads (which inherit the mask), so only waitForTermination sees them. Logs
  // "connected to SERVER (SOURCE)" through the host. Call from the main thread, once.
  HostProcess(const kube::ClientConfig& config, const kube::ClientOptions& clientOptions,
              runtime::HostOptions hostOptions,
              runtime::LogFormat logFormat = runtime::LogFormat::kLogfmt);
  // The host keeps a reference to the client: neither copies nor moves.
  HostProcess(const HostProcess&) = delete;
  HostProcess& operator=(const HostProcess&) = delete;

  runtime::OperatorHost& host() { return host_; }
  kube::Client& client() { return client_; }

  // Waits up to timeout for SIGINT or SIGTERM; true when one arrived.
  bool waitForTermination(std::chrono::milliseconds timeout);

 private:
  sigset_t signals_;  // first: blocked before client_ and host_ exist
  kube::Client client_;
  runtime::OperatorHost host_;
};

}  // namespace wop::server
