// indexer: a guest for the end-to-end test of field indexes and of mappers that read the cache.
// Consumers (ConfigMaps labelled indexer.wasm-operator.dev/consumer in `namespace`) name a
// source ConfigMap in data.source; sources are labelled indexer.wasm-operator.dev/source. The
// reconcile copies the source's data.value into the consumer's annotation
// indexer.wasm-operator.dev/value ("absent" if there is no such source).
//
// A source's change must reach its consumers, and the guest keeps no state to find them: the
// mapper asks the host's cache, by the field index "source" (data.source of each consumer), and
// logs "mapped <source> to <n> consumer(s)".
// Config: {"namespace": "..."}.
#include <wop/sdk.h>

#include <string>
#include <vector>

using namespace wop::sdk;

namespace {

constexpr const char* kConsumer = "indexer.wasm-operator.dev/consumer";
constexpr const char* kSource = "indexer.wasm-operator.dev/source";
constexpr const char* kValue = "indexer.wasm-operator.dev/value";
constexpr const char* kBySource = "source";

std::string keyOf(const json& object) { return namespaceOf(object) + "/" + nameOf(object); }

std::vector<std::string> consumersOf(MapContext& ctx, const json& source) {
  // A consumer names its source within its own namespace: the index holds the bare name.
  auto consumers = ctx.client.listByIndex(kinds::ConfigMap, namespaceOf(source), kBySource,
                                          nameOf(source), kConsumer);
  if (consumers.failed()) {
    log::error("mapping %s: %s", keyOf(source).c_str(), consumers.error().c_str());
    return {};
  }
  std::vector<std::string> keys;
  for (const auto& consumer : *consumers) keys.push_back(keyOf(consumer));
  log::info("mapped %s to %zu consumer(s)", keyOf(source).c_str(), keys.size());
  return keys;
}

}  // namespace

class Indexer : public Operator {
 public:
  std::vector<Controller> controllers(const Config& config) override {
    const std::string ns = config.string("namespace", "default");
    return {
        Controller("indexer")
            .For(kinds::ConfigMap, ns, kConsumer)
            .Watches(kinds::ConfigMap, ns, kSource, consumersOf)
            .IndexField(kinds::ConfigMap, kBySource, IndexExtractor::jsonPointer("/data/source"))};
  }

  Task<Result> reconcile(Context& ctx, const Request& req) override {
    auto consumer = ctx.client.get(kinds::ConfigMap, req.ns, req.name);
    if (consumer.failed()) co_return Result::error(consumer.error());
    if (consumer.notFound()) co_return Result::done();
    std::string value = "absent";
    if (auto name = getString(*consumer, {"data", "source"})) {
      auto source = ctx.client.get(kinds::ConfigMap, req.ns, *name);
      if (source.failed()) co_return Result::error(source.error());
      if (source.found() && label(*source, kSource))
        value = getString(*source, {"data", "value"}).value_or("");
    }
    if (annotation(*consumer, kValue) == value) co_return Result::done();
    log::info("annotating %s %s=%s", req.key().c_str(), kValue, value.c_str());
    auto patched =
        co_await ctx.client.patch(*consumer, {{"metadata", {{"annotations", {{kValue, value}}}}}});
    if (!patched.ok()) co_return Result::error(patched.errorMessage());
    co_return Result::done();
  }
};

WOP_OPERATOR(Indexer)
