// replicator: copies ConfigMaps and Secrets labelled replicator.wasm-operator.dev/replicate=true
// into the namespaces listed in their annotation replicator.wasm-operator.dev/to ("ns-a,ns-b"),
// keeps the copies in sync (server-side apply), deletes copies from namespaces no longer
// listed, reports "synced to N namespaces" in an annotation and an Event, and cleans up all
// copies (finalizer) when the source is deleted.
#include <wop/sdk.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

using namespace wop::sdk;

namespace {

constexpr const char* kReplicate = "replicator.wasm-operator.dev/replicate";
constexpr const char* kTo = "replicator.wasm-operator.dev/to";
constexpr const char* kSource = "replicator.wasm-operator.dev/source";  // on copies: "<ns>.<name>"
constexpr const char* kStatus = "replicator.wasm-operator.dev/status";
constexpr const char* kFinalizer = "replicator.wasm-operator.dev/cleanup";
constexpr const char* kFieldManager = "replicator";
// The field index of copies by their source label: a source's copies are one lookup in the
// host's cache, not a scan of every copy.
constexpr const char* kCopiesOf = "copiesOf";

// "ns-a, ns-b,,ns-a" -> {ns-a, ns-b}, without the source's own namespace.
std::set<std::string> targetNamespaces(const json& source) {
  std::set<std::string> targets;
  std::string list = annotation(source, kTo).value_or("");
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = std::min(list.find(',', start), list.size());
    std::string ns = list.substr(start, comma - start);
    ns.erase(0, ns.find_first_not_of(" \t"));
    ns.erase(ns.find_last_not_of(" \t") + 1);
    if (!ns.empty() && ns != namespaceOf(source)) targets.insert(ns);
    start = comma + 1;
  }
  return targets;
}

// The copy's source key from its label: namespaces have no dots, so "<ns>.<name>" splits at
// the first one.
std::vector<std::string> sourceOfCopy(const json& copy) {
  auto source = label(copy, kSource).value_or("");
  auto dot = source.find('.');
  if (dot == std::string::npos || dot == 0) return {};
  return {source.substr(0, dot) + "/" + source.substr(dot + 1)};
}

// The desired copy in `ns`: the fields we own, nothing else.
json desiredCopy(const json& source, const std::string& ns) {
  json copy = {{"apiVersion", source.value("apiVersion", "v1")},
               {"kind", source.value("kind", "")},
               {"metadata",
                {{"namespace", ns},
                 {"name", nameOf(source)},
                 {"labels", {{kSource, namespaceOf(source) + "." + nameOf(source)}}}}}};
  for (const char* field : {"data", "binaryData", "type"}) {
    if (auto value = fieldAt(source, {field})) copy[field] = *value;
  }
  return copy;
}

bool inSync(const json& copy, const json& desired) {
  for (const char* field : {"data", "binaryData", "type"}) {
    auto have = fieldAt(copy, {field});
    auto want = fieldAt(desired, {field});
    if ((have == nullptr) != (want == nullptr) || (have && *have != *want)) return false;
  }
  return label(copy, kSource) == label(desired, kSource);
}

}  // namespace

class Replicator : public Operator {
 public:
  std::vector<Controller> controllers(const Config&) override {
    auto replicate = [](const char* name, Kind kind) {
      return Controller(name)
          .For(kind, "", std::string(kReplicate) + "=true")
          .Watches(kind, "", kSource, sourceOfCopy)  // a copy changed: its source's key
          .IndexField(kind, kCopiesOf, IndexExtractor::label(kSource));
    };
    return {replicate("replicator-configmaps", kinds::ConfigMap),
            replicate("replicator-secrets", kinds::Secret)};
  }

  Task<Result> reconcile(Context& ctx, const Request& req) override {
    Kind kind = {ctx.controller.forResource().apiVersion, ctx.controller.forResource().kind};
    // A failed read says nothing about the source: retry rather than act as if it were gone.
    WOP_CO_TRY(auto source, ctx.client.get(kind, req.ns, req.name));
    if (source.notFound()) co_return Result::done();  // gone, finalizer and all
    // Above all in the delete path: without the list we cannot delete the copies, so we must
    // not drop the finalizer.
    WOP_CO_TRY(auto copies, ctx.client.listByIndex(kind, "", kCopiesOf, req.ns + "." + req.name));

    if (isBeingDeleted(*source)) {
      for (const json& copy : *copies) {
        auto deleted = co_await ctx.client.remove(copy);
        if (!deleted.ok() && !deleted.notFound()) co_return Result::error(deleted.errorMessage());
      }
      WOP_CO_CHECK(co_await ctx.client.removeFinalizer(*source, kFinalizer));
      log::info("deleted copies", {{"key", req.key()}, {"copies", copies->size()}});
      co_return Result::done();
    }
    WOP_CO_CHECK(co_await ctx.client.addFinalizer(*source, kFinalizer));

    auto targets = targetNamespaces(*source);
    size_t changes = 0;
    for (const auto& ns : targets) {
      json desired = desiredCopy(*source, ns);
      auto existing = std::find_if(copies->begin(), copies->end(),
                                   [&](const json& c) { return namespaceOf(c) == ns; });
      if (existing != copies->end() && inSync(*existing, desired)) continue;
      WOP_CO_CHECK(co_await ctx.client.apply(desired, kFieldManager));
      ++changes;
    }
    for (const json& copy : *copies) {
      if (targets.count(namespaceOf(copy)) > 0) continue;
      auto deleted = co_await ctx.client.remove(copy);
      if (!deleted.ok() && !deleted.notFound()) co_return Result::error(deleted.errorMessage());
      ++changes;
    }

    std::string status = "synced to " + std::to_string(targets.size()) + " namespaces";
    if (annotation(*source, kStatus) != status) {
      WOP_CO_CHECK(co_await ctx.client.patch(
          *source, {{"metadata", {{"annotations", {{kStatus, status}}}}}}));
    }
    if (changes > 0) {
      log::info(status, {{"key", req.key()}, {"changes", changes}});
      // An event is a report, not part of the job: its failure is only logged.
      auto event = co_await ctx.client.recordEvent(*source, "Normal", "Synced", status);
      if (!event.ok())
        log::warn("event failed", {{"key", req.key()}, {"error", event.errorMessage()}});
    }
    co_return Result::done();
  }
};

WOP_OPERATOR(Replicator)
