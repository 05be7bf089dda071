// An operator definition as the host runs it: where its module is, who it acts as, its
// configuration and limits. The server reads these from WasmOperator objects
// (deploy/crds/wasmoperators.yaml; in files for now, server/operator_definitions.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wop::runtime {

struct OperatorSpec {
  std::string name;
  std::string modulePath;
  // The module file's sha256 (hex); when set, a file with another digest is refused.
  std::string moduleSha256;
  // The ServiceAccount the operator acts as (impersonated on every API call). Fails closed:
  // an operator without one is refused unless trusted, and a trusted one acts as the host.
  std::string serviceAccountNamespace = "default";
  std::string serviceAccountName;
  bool trusted = false;
  std::string configJson = "{}";
  uint64_t maxMemoryBytes = 64ull << 20;
  std::chrono::milliseconds entryTimeout{1000};
  // Swapping to disk when idle; unset: the host's default (HostOptions::swap).
  std::optional<bool> swap;
  std::optional<std::chrono::milliseconds> swapIdleAfter;
  // Where its outbound HTTP requests may go (outbound/allowed_hosts.h has the syntax); empty:
  // nowhere.
  std::vector<std::string> allowedHosts;
};

}  // namespace wop::runtime
