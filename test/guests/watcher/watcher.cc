// watcher: a guest for the runtime's end-to-end tests of watches and cache reads. One
// controller over ConfigMaps labelled watcher.wasm-operator.dev/primary in `namespace`:
//
//   For      ConfigMaps labelled .../primary                 (LabelsChanged: own writes never wake
//   it) Owns     ConfigMaps labelled .../owned                   (comes before the watches) Watches
//   ConfigMaps labelled .../cached in cacheNamespace, MapTo::None (read-only) Watches  ConfigMaps
//   labelled .../points-to, mapped by a function to <namespace>/<label value>
//
// A primary's data names what to read: "cached": a ConfigMap in cacheNamespace (its data.value),
// "secret": a Secret in `namespace` (which this operator never declares, so the read fails).
// The reconcile writes what it read into annotations .../cached-<id> and .../secret-<id>
// ("absent" if not found), logging "annotating <key> <annotation>=<value>" first. A failed read
// ends the reconcile with its error, so the key is retried.
// Config: {"namespace": "...", "cacheNamespace": "..." (default: namespace), "id": "w"}.
#include <wop/sdk.h>

#include <string>
#include <vector>

using namespace wop::sdk;

namespace {

constexpr const char* kPrimary = "watcher.wasm-operator.dev/primary";
constexpr const char* kOwned = "watcher.wasm-operator.dev/owned";
constexpr const char* kCached = "watcher.wasm-operator.dev/cached";
constexpr const char* kPointsTo = "watcher.wasm-operator.dev/points-to";

}  // namespace

class Watcher : public Operator {
 public:
  std::vector<Controller> controllers(const Config& config) override {
    ns_ = config.string("namespace", "default");
    cacheNs_ = config.string("cacheNamespace", ns_);
    id_ = config.string("id", "w");
    std::string ns = ns_;
    return {Controller("watcher")
                .For(kinds::ConfigMap, ns_, kPrimary, {Predicate::LabelsChanged})
                .Owns(kinds::ConfigMap, ns_, kOwned)
                .Watches(kinds::ConfigMap, cacheNs_, kCached, MapTo::None)
                .Watches(kinds::ConfigMap, ns_, kPointsTo,
                         [ns](const json& pointer) -> std::vector<std::string> {
                           auto target = label(pointer, kPointsTo).value_or("");
                           if (target.empty()) return {};
                           return {ns + "/" + target};
                         })};
  }

  Task<Result> reconcile(Context& ctx, const Request& req) override {
    auto primary = ctx.client.get(kinds::ConfigMap, req.ns, req.name);
    if (primary.failed()) co_return Result::error(primary.error());
    if (primary.notFound()) co_return Result::done();

    json annotations = json::object();
    if (auto name = getString(*primary, {"data", "cached"})) {
      auto cached = ctx.client.get(kinds::ConfigMap, cacheNs_, *name);
      if (cached.failed()) co_return Result::error(cached.error());
      annotations["watcher.wasm-operator.dev/cached-" + id_] =
          cached.notFound() ? "absent" : getString(*cached, {"data", "value"}).value_or("");
    }
    if (auto name = getString(*primary, {"data", "secret"})) {
      auto secret = ctx.client.get(kinds::Secret, req.ns, *name);
      if (secret.failed()) co_return Result::error(secret.error());
      annotations["watcher.wasm-operator.dev/secret-" + id_] =
          secret.notFound() ? "absent" : "present";
    }
    bool changed = false;
    for (const auto& [key, value] : annotations.items()) {
      if (annotation(*primary, key) == value.get<std::string>()) continue;
      log::info("annotating %s %s=%s", req.key().c_str(), key.c_str(),
                value.get<std::string>().c_str());
      changed = true;
    }
    if (!changed) co_return Result::done();
    auto patched =
        co_await ctx.client.patch(*primary, {{"metadata", {{"annotations", annotations}}}});
    if (!patched.ok()) co_return Result::error(patched.errorMessage());
    co_return Result::done();
  }

 private:
  std::string ns_;
  std::string cacheNs_;
  std::string id_;
};

WOP_OPERATOR(Watcher)
