// The client.authentication.k8s.io exec credential protocol, as kubectl runs it: the plugin
// gets KUBERNETES_EXEC_INFO (an ExecCredential spec) in its environment and prints an
// ExecCredential whose status holds a token or a client certificate, and maybe an expiry.
// Used by ExecCredentialSource (credentials.cc), which caches the result.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "kube/credentials.h"
#include "kube/kubeconfig.h"

namespace wop::kube {

// Long enough for a plugin that fetches a token over the network, short enough that a hung
// plugin does not stall the operator forever.
inline constexpr std::chrono::seconds kExecPluginTimeout{30};

struct ExecCredentialResult {
  Credentials credentials;
  std::optional<common::WallTime> expiry;  // none: valid until the server says 401
};

// Parses a plugin's stdout. Fails with InvalidArgument saying what is wrong: not JSON, another
// apiVersion or kind, no status, neither token nor certificate and key, a bad timestamp.
common::Result<ExecCredentialResult> parseExecCredential(std::string_view json,
                                                         const std::string& apiVersion);

// RFC 3339 ("2026-11-29T20:15:00Z", "2026-11-29T21:15:00.5+01:00") as Go's time.Parse(RFC3339)
// reads it: any number of fractional digits (or none), "Z" or "+hh:mm"; nullopt for anything
// else, for a day or time of day that does not exist, and for instants a WallTime cannot hold
// (int64 nanoseconds: 1677 to 2262). metav1.Time and MicroTime in API objects, too.
std::optional<common::WallTime> parseRfc3339(std::string_view text);

// The KUBERNETES_EXEC_INFO value for config: spec.interactive is always false (we never have a
// terminal); spec.cluster is included only when the plugin asks for it (provideClusterInfo).
std::string execInfoJson(const ClientConfig& config);

// One configured plugin; run() is const and thread-safe (each run owns its child process).
class ExecPlugin {
 public:
  // config.exec must be set.
  explicit ExecPlugin(const ClientConfig& config);
  common::Result<ExecCredentialResult> run() const;

 private:
  std::vector<std::string> environment() const;
  common::Status failure(const common::Status& cause) const;

  ExecConfig exec_;
  std::string execInfo_;
};

}  // namespace wop::kube
