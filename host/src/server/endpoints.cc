#include "server/endpoints.h"

#include "server/metrics_exposition.h"
#include "server/prometheus_text.h"
#include "server/run_command.h"

namespace wop::server {
namespace {

HttpRoutes metricsRoutes(runtime::OperatorHost& host, const kube::Client& client,
                         ExtraMetrics extra) {
  return {{"/metrics", [&host, &client, extra = std::move(extra)](const HttpRequest&) {
             return HttpReply{200, std::string(PrometheusText::kContentType),
                              renderMetrics(host, client, residentBytes(), extra)};
           }}};
}

}  // namespace

common::Result<std::unique_ptr<Endpoints>> Endpoints::start(
    const EndpointAddresses& addresses, runtime::OperatorHost& host, const kube::Client& client,
    const HealthChecks& healthz, const HealthChecks& readyz, ExtraMetrics extra) {
  auto endpoints = std::unique_ptr<Endpoints>(new Endpoints());
  struct Wanted {
    const char* flag;
    std::string text;
    HttpRoutes routes;
    std::string* listening;
  };
  std::vector<Wanted> wanted;
  if (!bindAddressDisabled(addresses.metrics)) {
    wanted.push_back({"--metrics-bind-address", addresses.metrics,
                      metricsRoutes(host, client, std::move(extra)), &endpoints->metricsAddress_});
  }
  if (!bindAddressDisabled(addresses.healthProbes)) {
    auto routes = healthRoutes(healthz, readyz);
    if (!wanted.empty() && wanted[0].text == addresses.healthProbes) {
      wanted[0].routes.merge(routes);  // one address for both: one server serves both
    } else {
      wanted.push_back({"--health-probe-bind-address", addresses.healthProbes, std::move(routes),
                        &endpoints->healthAddress_});
    }
  }
  for (auto& want : wanted) {
    auto address = parseBindAddress(want.text);
    if (!address) return address.status().withContext(want.flag);
    auto server = HttpServer::start(*address, std::move(want.routes));
    if (!server) return server.status().withContext(want.flag);
    BindAddress bound = *address;
    bound.port = (*server)->port();
    *want.listening = bound.toString();
    endpoints->servers_.push_back(std::move(*server));
  }
  if (!bindAddressDisabled(addresses.healthProbes) && endpoints->healthAddress_.empty()) {
    endpoints->healthAddress_ = endpoints->metricsAddress_;
  }
  return endpoints;
}

}  // namespace wop::server
