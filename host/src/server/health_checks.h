// Liveness and readiness endpoints with controller-runtime's semantics (pkg/healthz), which
// kubelet probes and people read:
//
//   GET /healthz              200 "ok" when every check passes; else 500 and one line a check
//   GET /healthz?verbose      one line a check even when all pass:
//                               [+]informers ok
//                               [-]leader failed: reason withheld
//                               healthz check failed
//   GET /healthz?exclude=a    check a is skipped ("[+]a excluded: ok"); repeatable
//   GET /healthz/<name>       that check alone: 200 "ok", or 500 "internal server error: <reason>"
//                             (404 for a name not registered)
//
// and the same below /readyz. As in controller-runtime the aggregate withholds the reasons (the
// endpoint is public; the final line says "healthz check ..." on /readyz too), an empty
// registry reports a "ping" check that always passes, and the checks are reported sorted by
// name.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"
#include "server/http_server.h"

namespace wop::server {

// A check: Ok when healthy, else a Status whose message says why. Runs on the HTTP server's
// thread for every probe, so it must answer quickly (read a flag or a timestamp; no I/O). An
// exception it throws is a failed check.
using HealthCheck = std::function<common::Status()>;

// Always passes: says the process is alive and its HTTP server answers (controller-runtime's
// healthz.Ping).
common::Status pingCheck();

// A named set of checks behind one endpoint (/healthz or /readyz).
// Thread-safety: add and serve may be called from any thread at once; a check runs without the
// registry's lock held.
class HealthChecks {
 public:
  // Registers check under name. Refuses an empty name, a name with '/' (it could not be served
  // at /healthz/<name>) and a name already taken.
  common::Status add(const std::string& name, HealthCheck check);

  // The reply to request for the endpoint's sub-path: "" aggregates every check, "<name>" runs
  // one.
  HttpReply serve(const HttpRequest& request, std::string_view name) const;

 private:
  std::map<std::string, HealthCheck> snapshot() const;

  mutable std::mutex mutex_;
  std::map<std::string, HealthCheck> checks_;  // guarded by mutex_; sorted, as reported
};

// Routes for "/healthz", "/healthz/...", "/readyz" and "/readyz/..." to hand to
// HttpServer::start. Both registries must outlive the server.
HttpRoutes healthRoutes(const HealthChecks& healthz, const HealthChecks& readyz);

}  // namespace wop::server
