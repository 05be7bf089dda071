// An operator definition as the host runs it: where its module is, who it acts as, its
// configuration and limits. The server reads these from YAML (operators/*.yaml); the same
// schema will become the WasmOperator CRD.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace wop::runtime {

struct OperatorSpec {
  std::string name;
  std::string modulePath;
  // The ServiceAccount the operator acts as (impersonated on every API call); an empty name
  // means the host's own identity (tests and trusted operators only).
  std::string serviceAccountNamespace = "default";
  std::string serviceAccountName;
  std::string configJson = "{}";
  uint64_t maxMemoryBytes = 64ull << 20;
  std::chrono::milliseconds entryTimeout{1000};
  // Swapping to disk when idle; unset: the host's default (HostOptions::swap).
  std::optional<bool> swap;
  std::optional<std::chrono::milliseconds> swapIdleAfter;
};

}  // namespace wop::runtime
