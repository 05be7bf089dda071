// fetcher: an SDK guest for the outbound HTTP tests. It reconciles the ConfigMaps of its
// namespace (config {"namespace": NS, "concurrency": N}), calls data.url with data.method
// (default GET) and data.timeoutMs, and writes what came back into the ConfigMap's annotation
// fetcher.wasm-operator.dev/result: "<status> <body>" for an answer, "<status> <error>" when
// none came; plus fetcher.wasm-operator.dev/location for a redirect. Only label changes and
// creation trigger a reconcile, so its own annotation write does not loop.
// With data.live, after the call it reads that ConfigMap of its namespace from the API server
// itself (getLive, not the cache) and adds " live=<its data.value>" (or " live=absent") to the
// result; a failed read ends the reconcile with its error, so the key is retried. It logs
// "<key>: calling <url>" before each call: a test knows then that the reconcile is under way.
#include <wop/sdk.h>

#include <cstdlib>

using namespace wop::sdk;

class Fetcher : public Operator {
 public:
  std::vector<Controller> controllers(const Config& config) override {
    return {Controller("fetcher")
                .For(kinds::ConfigMap, config.string("namespace"), "", {Predicate::LabelsChanged})
                .maxConcurrentReconciles(static_cast<int>(config.integer("concurrency", 1)))};
  }

  Task<Result> reconcile(Context& ctx, const Request& req) override {
    auto object = ctx.client.get(kinds::ConfigMap, req.ns, req.name);
    if (object.notFound()) co_return Result::done();
    if (object.failed()) co_return Result::error(object.error());
    const json data = object->value("data", json::object());
    if (!data.contains("url")) co_return Result::done();
    HttpRequest request;
    request.method = data.value("method", std::string("GET"));
    request.url = data.value("url", std::string());
    const std::string timeout = data.value("timeoutMs", std::string("0"));
    request.timeoutMs = static_cast<uint32_t>(std::strtoul(timeout.c_str(), nullptr, 10));
    if (request.method == "POST") request.body = data.value("body", std::string());
    log::info("%s: calling %s", req.key().c_str(), request.url.c_str());
    HttpResponse response = co_await ctx.http.send(request);
    std::string result = std::to_string(response.status) + " " +
                         (response.hostError() ? response.errorMessage() : response.body);
    if (data.contains("live")) {
      const std::string name = data.value("live", std::string());
      Response live = co_await ctx.client.getLive(kinds::ConfigMap, req.ns, name);
      // Anything but an answer says nothing about the object: retry, never take it as absent.
      if (!live.ok() && !live.notFound()) {
        co_return Result::error("live read of " + req.ns + "/" + name + ": " + live.errorMessage());
      }
      result +=
          " live=" + (live.notFound() ? std::string("absent")
                                      : getString(live.json(), {"data", "value"}).value_or(""));
    }
    log::info("%s: %s", req.key().c_str(), result.c_str());
    json annotations = {{"fetcher.wasm-operator.dev/result", result}};
    if (!response.header("location").empty()) {
      annotations["fetcher.wasm-operator.dev/location"] = response.header("Location");
    }
    auto patched = co_await ctx.client.patch(kinds::ConfigMap, req.ns, req.name,
                                             {{"metadata", {{"annotations", annotations}}}});
    if (patched.notFound()) co_return Result::done();
    if (!patched.ok()) co_return Result::error(patched.errorMessage());
    co_return Result::done();
  }
};

WOP_OPERATOR(Fetcher)
