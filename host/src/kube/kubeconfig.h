// Where and how to reach an API server: read from kubeconfig files (as kubectl reads them) or
// from a pod's in-cluster environment. Pure parsing and merging; no network.
//
// Precedence (kubectl's): explicitPath (--kubeconfig) if set; else every file in KUBECONFIG
// (':'-separated, missing files skipped, at least one must exist), merged so that the FIRST
// file to define a name (cluster, user, context) or current-context wins; else
// ~/.kube/config. contextOverride replaces current-context.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace wop::kube {

// A client.authentication.k8s.io/v1 exec credential plugin (users[].user.exec).
struct ExecConfig {
  std::string apiVersion;  // must be client.authentication.k8s.io/v1 (or v1beta1)
  std::string command;     // resolved relative to the kubeconfig's folder if it has a slash
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string installHint;
  bool provideClusterInfo = false;
  std::string interactiveMode;  // Never | IfAvailable | Always; we never have a terminal
};

struct ClientConfig {
  std::string server;  // e.g. https://127.0.0.1:6443, no trailing slash
  std::string tlsServerName;
  bool insecureSkipTlsVerify = false;
  std::string caPem;  // CA bundle: certificate-authority file contents or -data decoded
  std::string clientCertPem;
  std::string clientKeyPem;
  std::string bearerToken;  // token, or the contents of tokenFile at load time
  std::string tokenFile;    // if set, re-read when it changes (rotating ServiceAccount tokens)
  std::optional<ExecConfig> exec;
  std::string defaultNamespace = "default";  // context namespace, or the in-cluster one
  std::string contextName;                   // empty for in-cluster
  // Where this came from, for messages: "kubeconfig /home/u/.kube/config, context dev".
  std::string source;
};

struct KubeconfigOptions {
  std::string explicitPath;   // --kubeconfig
  std::string kubeconfigEnv;  // the value of KUBECONFIG
  std::string homeDir;        // the value of HOME
  std::string contextOverride;
};

// Reads KUBECONFIG and HOME from the process environment.
KubeconfigOptions kubeconfigOptionsFromEnvironment();

// Loads, merges and resolves the current (or overridden) context. Errors name the file, the
// entry (e.g. "users[1] (name alice)") and what is wrong.
common::Result<ClientConfig> loadKubeconfig(const KubeconfigOptions& options);

// Parses one kubeconfig document already in memory; path is used for messages and to resolve
// relative file references. Exposed for tests and the fuzzer.
common::Result<ClientConfig> parseKubeconfig(std::string_view yaml, const std::string& path,
                                             const std::string& contextOverride = "");

struct InClusterOptions {
  std::string serviceHost;  // KUBERNETES_SERVICE_HOST
  std::string servicePort;  // KUBERNETES_SERVICE_PORT
  std::string tokenPath = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string caPath = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string namespacePath = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
};

InClusterOptions inClusterOptionsFromEnvironment();

// In-cluster configuration; tokenFile is set so the token is re-read when kubelet rotates it.
common::Result<ClientConfig> loadInCluster(const InClusterOptions& options);

}  // namespace wop::kube
