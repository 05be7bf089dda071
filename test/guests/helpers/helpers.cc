// helpers: a guest for the end-to-end test of the SDK's helpers (test/integration/
// sdk_helpers_test.cc). One controller over HelperTests (test/guests/helpers/crd.yaml) in
// `namespace`, owning ConfigMaps:
//
//  - spec.mode "terminal": Ready=False (InvalidSpec) through patchStatus, a Warning Event about
//    the object and one about its Namespace (cluster-scoped: it goes to "default"), then
//    Result::terminal, which the host does not retry.
//  - otherwise: createOrUpdate of ConfigMap <name>-out with data.value = spec.value (from the
//    cache: the kind is owned), status.patched = spec.value through patchStatus, Ready=True
//    ("value <spec.value>") and observedGeneration through applyStatus, a Normal Event "Reconciled"
//    (identical each time: repeats form a series), and a key/value log line "reconciled key=...
//    operation=...".
// Reads and writes fail the reconcile in one line (WOP_CO_TRY / WOP_CO_CHECK).
// Config: {"namespace": "..."}.
#include <wop/sdk.h>

#include <string>
#include <vector>

using namespace wop::sdk;

namespace {

constexpr Kind kHelperTest{"test.wasm-operator.dev/v1", "HelperTest"};
constexpr const char* kFieldManager = "helpers-status";

}  // namespace

class Helpers : public Operator {
 public:
  std::vector<Controller> controllers(const Config& config) override {
    ns_ = config.string("namespace", "default");
    return {Controller("helpers").For(kHelperTest, ns_).Owns(kinds::ConfigMap, ns_)};
  }

  Task<Result> reconcile(Context& ctx, const Request& req) override {
    WOP_CO_TRY(auto found, ctx.client.get(kHelperTest, req.ns, req.name));
    if (found.notFound()) co_return Result::done();
    json object = std::move(*found);
    const std::string value = getString(object, {"spec", "value"}).value_or("");

    if (getString(object, {"spec", "mode"}) == "terminal") {
      json status = object;
      setCondition(status, {.type = "Ready",
                            .status = kConditionFalse,
                            .reason = "InvalidSpec",
                            .message = "spec.mode terminal cannot be reconciled"});
      WOP_CO_CHECK(co_await ctx.client.patchStatus(
          object, {{"status", {{"conditions", status["status"]["conditions"]}}}}));
      (void)co_await events_.event(ctx.client, object, EventType::Warning, "InvalidSpec", "Reject",
                                   "spec.mode terminal cannot be reconciled");
      json nsObject = {
          {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", req.ns}}}};
      auto about = co_await events_.event(ctx.client, nsObject, EventType::Warning,
                                          "InvalidHelperTest", "Reject", req.name);
      if (about.failed()) log::warn("event about the namespace failed", {{"error", about.error}});
      co_return Result::terminal("spec.mode terminal cannot be reconciled: " + req.key());
    }

    json out = {{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata", {{"namespace", req.ns}, {"name", req.name + "-out"}}}};
    WOP_CO_TRY(auto written, co_await createOrUpdate(ctx.client, out, [&](json& cm) {
                 cm["data"] = {{"value", value}};
                 setControllerReference(object, cm);
               }));

    WOP_CO_CHECK(co_await ctx.client.patchStatus(object, {{"status", {{"patched", value}}}}));
    json status = object;
    status["status"] = {
        {"observedGeneration", getInt(object, {"metadata", "generation"}).value_or(0)},
        {"conditions", conditionsOf(object)}};
    setCondition(status, {.type = "Ready",
                          .status = kConditionTrue,
                          .reason = "Reconciled",
                          .message = "value " + value});
    WOP_CO_CHECK(co_await ctx.client.applyStatus(status, kFieldManager));

    auto recorded = co_await events_.event(ctx.client, object, EventType::Normal, "Reconciled",
                                           "Reconcile", "reconciled");
    if (recorded.failed()) log::warn("event failed", {{"error", recorded.error}});
    log::info(
        "reconciled",
        {{"key", req.key()}, {"operation", operationName(written.operation())}, {"value", value}});
    co_return Result::done();
  }

 private:
  std::string ns_;
  EventRecorder events_{
      {.reportingController = "test.wasm-operator.dev/helpers", .reportingInstance = "helpers-0"}};
};

WOP_OPERATOR(Helpers)
