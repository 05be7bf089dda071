// The host's HTTP endpoints, with controller-runtime's flags and defaults: /metrics on
// --metrics-bind-address (:8080) and /healthz, /readyz on --health-probe-bind-address (:8081);
// "0" turns one off, and one address given to both serves both from one server.
//
// Lifetime: the host, the client, both check registries and the Event counters (if any) must
// outlive the Endpoints.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "kube/client.h"
#include "runtime/operator_host.h"
#include "server/event_recorder.h"
#include "server/health_checks.h"
#include "server/http_server.h"
#include "server/metrics_exposition.h"

namespace wop::server {

struct EndpointAddresses {
  std::string metrics = ":8080";
  std::string healthProbes = ":8081";
};

class Endpoints {
 public:
  // Listens on both addresses; an error names the flag, the address and why (in use, bad).
  static common::Result<std::unique_ptr<Endpoints>> start(
      const EndpointAddresses& addresses, runtime::OperatorHost& host, const kube::Client& client,
      const HealthChecks& healthz, const HealthChecks& readyz, ExtraMetrics extra = {});

  // Where each listens (e.g. "127.0.0.1:41234"), empty when off: for the log line.
  std::string metricsAddress() const { return metricsAddress_; }
  std::string healthAddress() const { return healthAddress_; }

 private:
  std::vector<std::unique_ptr<HttpServer>> servers_;
  std::string metricsAddress_;
  std::string healthAddress_;
};

}  // namespace wop::server
