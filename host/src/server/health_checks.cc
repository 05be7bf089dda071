#include "server/health_checks.h"

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "common/error_boundary.h"
#include "common/log_text.h"

namespace wop::server {
namespace {

using common::Status;
using common::StatusCode;

constexpr char kTextPlain[] = "text/plain; charset=utf-8";
// controller-runtime's name for the check an empty registry reports.
constexpr char kPingName[] = "ping";

// A check's outcome; an exception is a failure like any other.
Status run(const std::string& name, const HealthCheck& check) {
  return common::guard(name, [&] { return check(); });
}

// Text from the query, quoted for a reply line as Go's %q would: one line, quotes escaped.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : common::escapeLogText(text)) {
    if (c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The aggregate reply; verbose on failure always, on success when asked.
HttpReply aggregate(const std::map<std::string, HealthCheck>& checks, const HttpRequest& request) {
  const std::vector<std::string> excludeList = request.queryValues("exclude");
  std::set<std::string> unknownExcludes(excludeList.begin(), excludeList.end());
  std::string lines;
  bool failed = false;
  for (const auto& [name, check] : checks) {
    if (unknownExcludes.erase(name) > 0) {
      lines += "[+]" + name + " excluded: ok\n";
    } else if (run(name, check).isOk()) {
      lines += "[+]" + name + " ok\n";
    } else {
      // The reason stays out: this endpoint is public. /healthz/<name> gives it.
      lines += "[-]" + name + " failed: reason withheld\n";
      failed = true;
    }
  }
  if (checks.empty()) lines += std::string("[+]") + kPingName + " ok\n";
  if (!failed && !request.hasQuery("verbose")) return {200, kTextPlain, "ok"};
  if (!unknownExcludes.empty()) {
    lines += "warn: some health checks cannot be excluded: no matches for ";
    bool first = true;
    for (const std::string& name : unknownExcludes) {
      lines += (first ? "" : ",") + quoted(name);
      first = false;
    }
    lines += "\n";
  }
  lines += failed ? "healthz check failed\n" : "healthz check passed\n";
  return {failed ? 500 : 200, kTextPlain, std::move(lines)};
}

HttpReply single(const std::string& name, const HealthCheck& check) {
  const Status outcome = run(name, check);
  if (outcome.isOk()) return {200, kTextPlain, "ok"};
  // As Go's http.Error writes it. The message is the host's own (an exception's reason comes
  // already escaped to one line).
  return {500, kTextPlain, "internal server error: " + outcome.message() + "\n"};
}

// The handler of one endpoint: the path below prefix, without its slashes, names the check.
HttpHandler endpoint(const HealthChecks& checks, std::string prefix) {
  return [&checks, prefix = std::move(prefix)](const HttpRequest& request) {
    std::string_view name = request.path;
    name.remove_prefix(std::min(prefix.size(), name.size()));
    while (!name.empty() && name.front() == '/') name.remove_prefix(1);
    while (!name.empty() && name.back() == '/') name.remove_suffix(1);
    return checks.serve(request, name);
  };
}

}  // namespace

Status pingCheck() { return Status::ok(); }

Status HealthChecks::add(const std::string& name, HealthCheck check) {
  if (name.empty() || name.find('/') != std::string::npos) {
    return {StatusCode::kInvalidArgument, "health check name \"" + common::escapeLogText(name) +
                                              "\": want a non-empty name without '/'"};
  }
  if (!check) return {StatusCode::kInvalidArgument, "health check " + name + ": no function"};
  const std::lock_guard lock(mutex_);
  if (!checks_.emplace(name, std::move(check)).second) {
    return {StatusCode::kFailedPrecondition, "health check " + name + " already exists"};
  }
  return Status::ok();
}

std::map<std::string, HealthCheck> HealthChecks::snapshot() const {
  const std::lock_guard lock(mutex_);
  return checks_;
}

HttpReply HealthChecks::serve(const HttpRequest& request, std::string_view name) const {
  const std::map<std::string, HealthCheck> checks = snapshot();
  if (name.empty()) return aggregate(checks, request);
  if (checks.empty() && name == kPingName) return single(kPingName, pingCheck);
  const auto found = checks.find(std::string(name));
  if (found == checks.end()) return {404, kTextPlain, "404 page not found\n"};
  return single(found->first, found->second);
}

HttpRoutes healthRoutes(const HealthChecks& healthz, const HealthChecks& readyz) {
  HttpRoutes routes;
  for (const auto& [path, checks] :
       {std::pair{"/healthz", &healthz}, std::pair{"/readyz", &readyz}}) {
    routes.emplace(path, endpoint(*checks, path));
    routes.emplace(std::string(path) + "/", endpoint(*checks, path));
  }
  return routes;
}

}  // namespace wop::server
