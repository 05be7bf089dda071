#include "wop/client.h"

#include "wop/host.h"
#include "wop/log.h"
#include "wop/object.h"
#include "wop/runtime.h"

namespace wop::sdk {

namespace {

json target(Kind kind, std::string_view ns, std::string_view name) {
  return {{"apiVersion", kind.apiVersion}, {"kind", kind.kind}, {"namespace", ns}, {"name", name}};
}

// The request's target, taken from the object itself.
json targetOf(const json& object) {
  return {{"apiVersion", getString(object, {"apiVersion"}).value_or("")},
          {"kind", getString(object, {"kind"}).value_or("")},
          {"namespace", namespaceOf(object)},
          {"name", nameOf(object)}};
}

json withVerb(json request, const char* verb) {
  request["verb"] = verb;
  return request;
}

const char* patchTypeName(PatchType type) {
  switch (type) {
    case PatchType::Merge:
      return WOP_PATCH_MERGE;
    case PatchType::Json:
      return WOP_PATCH_JSON;
    case PatchType::Strategic:
      return WOP_PATCH_STRATEGIC;
  }
  return WOP_PATCH_MERGE;
}

}  // namespace

ReadResult<json> Client::cacheRead(const json& request) const {
  std::string out;
  const int32_t status = runtime_.host().cacheRead(request.dump(), &out);
  if (status == WOP_ERR_NOT_FOUND) return ReadResult<json>::absent();
  auto what = [&] {
    const std::string ns = request.value("namespace", "");
    std::string where = request.contains("name")
                            ? (ns.empty() ? "" : ns + "/") + request.value("name", "")
                            : "list in " + (ns.empty() ? std::string("all namespaces") : ns);
    if (request.contains("index")) where += " by index " + request.value("index", "");
    return "cache read of " + request.value("kind", "") + " " + where + " failed: ";
  };
  if (status < 0) return ReadResult<json>::failure(status, what() + detail::statusName(status));
  auto parsed = json::parse(out, nullptr, false);
  if (!parsed.is_object())
    return ReadResult<json>::failure(WOP_ERR_INVALID_ARGUMENT, what() + "not a JSON object");
  return ReadResult<json>::of(std::move(parsed));
}

ReadResult<json> Client::get(Kind kind, std::string_view ns, std::string_view name) const {
  return cacheRead(target(kind, ns, name));
}

namespace {

// The items of a list read's answer, or its failure; no match (or notFound) is no items.
ReadResult<std::vector<json>> itemsOf(ReadResult<json> answer, Kind kind) {
  using Items = ReadResult<std::vector<json>>;
  if (answer.notFound()) return Items::of({});
  if (answer.failed()) return Items::failure(answer.status(), answer.error());
  auto items = answer->find("items");
  if (items == answer->end() || !items->is_array()) {
    return Items::failure(WOP_ERR_INVALID_ARGUMENT,
                          "cache read of " + std::string(kind.kind) + " list: no items array");
  }
  std::vector<json> result;
  result.reserve(items->size());
  for (auto& item : *items) result.push_back(std::move(item));
  return Items::of(std::move(result));
}

}  // namespace

ReadResult<std::vector<json>> Client::list(Kind kind, std::string_view ns,
                                           std::string_view labelSelector) const {
  json request = {{"apiVersion", kind.apiVersion},
                  {"kind", kind.kind},
                  {"namespace", ns},
                  {"labelSelector", labelSelector}};
  return itemsOf(cacheRead(request), kind);
}

ReadResult<std::vector<json>> Client::listByIndex(Kind kind, std::string_view ns,
                                                  std::string_view index, std::string_view value,
                                                  std::string_view labelSelector) const {
  json request = {{"apiVersion", kind.apiVersion},  {"kind", kind.kind}, {"namespace", ns},
                  {"labelSelector", labelSelector}, {"index", index},    {"value", value}};
  return itemsOf(cacheRead(request), kind);
}

Call Client::send(const json& request) { return Call(runtime_, request.dump()); }

Call Client::getLive(Kind kind, std::string_view ns, std::string_view name) {
  return send(withVerb(target(kind, ns, name), WOP_VERB_GET));
}

Call Client::listLive(Kind kind, std::string_view ns, std::string_view labelSelector) {
  json request = {{"verb", WOP_VERB_LIST},
                  {"apiVersion", kind.apiVersion},
                  {"kind", kind.kind},
                  {"namespace", ns},
                  {"labelSelector", labelSelector}};
  return send(request);
}

Call Client::create(const json& object) {
  auto request = withVerb(targetOf(object), WOP_VERB_CREATE);
  request["body"] = object;
  return send(request);
}

Call Client::update(const json& object) {
  auto request = withVerb(targetOf(object), WOP_VERB_UPDATE);
  request["body"] = object;
  return send(request);
}

Call Client::updateStatus(const json& object) {
  auto request = withVerb(targetOf(object), WOP_VERB_UPDATE_STATUS);
  request["body"] = object;
  return send(request);
}

Call Client::patch(Kind kind, std::string_view ns, std::string_view name, const json& patch,
                   PatchType type) {
  auto request = withVerb(target(kind, ns, name), WOP_VERB_PATCH);
  request["body"] = patch;
  request["patchType"] = patchTypeName(type);
  return send(request);
}

Call Client::patch(const json& object, const json& patch, PatchType type) {
  auto request = withVerb(targetOf(object), WOP_VERB_PATCH);
  request["body"] = patch;
  request["patchType"] = patchTypeName(type);
  return send(request);
}

Call Client::apply(const json& object, std::string_view fieldManager, bool force) {
  auto request = withVerb(targetOf(object), WOP_VERB_APPLY);
  request["body"] = object;
  request["fieldManager"] = fieldManager;
  request["force"] = force;
  return send(request);
}

Call Client::patchStatus(const json& object, const json& patch, PatchType type) {
  auto request = withVerb(targetOf(object), WOP_VERB_PATCH);
  request["subresource"] = WOP_SUBRESOURCE_STATUS;
  request["body"] = patch;
  request["patchType"] = patchTypeName(type);
  return send(request);
}

Call Client::applyStatus(const json& object, std::string_view fieldManager, bool force) {
  // Only the status is this manager's intent here: sending spec or metadata too would make the
  // apply claim fields that the status subresource ignores.
  json metadata = {{"name", nameOf(object)}};
  if (auto ns = namespaceOf(object); !ns.empty()) metadata["namespace"] = ns;
  auto status = fieldAt(object, {"status"});
  auto request = withVerb(targetOf(object), WOP_VERB_APPLY);
  request["subresource"] = WOP_SUBRESOURCE_STATUS;
  request["body"] = {{"apiVersion", getString(object, {"apiVersion"}).value_or("")},
                     {"kind", getString(object, {"kind"}).value_or("")},
                     {"metadata", std::move(metadata)},
                     {"status", status != nullptr ? *status : json::object()}};
  request["fieldManager"] = fieldManager;
  request["force"] = force;
  return send(request);
}

Call Client::remove(Kind kind, std::string_view ns, std::string_view name,
                    std::string_view propagationPolicy) {
  auto request = withVerb(target(kind, ns, name), WOP_VERB_DELETE);
  if (!propagationPolicy.empty()) request["propagationPolicy"] = propagationPolicy;
  return send(request);
}

Call Client::remove(const json& object, std::string_view propagationPolicy) {
  auto request = withVerb(targetOf(object), WOP_VERB_DELETE);
  if (!propagationPolicy.empty()) request["propagationPolicy"] = propagationPolicy;
  return send(request);
}

Call Client::recordEvent(const json& object, std::string_view type, std::string_view reason,
                         std::string_view message) {
  auto involved = ownerReference(object, /*controller=*/false);
  involved["namespace"] = namespaceOf(object);
  auto resourceVersion = resourceVersionOf(object);
  if (!resourceVersion.empty()) involved["resourceVersion"] = resourceVersion;
  // The request names the Event to create (in the object's namespace); the host names it.
  json request = {{"verb", WOP_VERB_EVENT},
                  {"apiVersion", "v1"},
                  {"kind", "Event"},
                  {"namespace", namespaceOf(object)},
                  {"body",
                   {{"involvedObject", std::move(involved)},
                    {"type", type},
                    {"reason", reason},
                    {"message", message}}}};
  return send(request);
}

Call Client::addFinalizer(const json& object, std::string_view finalizer) {
  json edited = object;
  if (!sdk::addFinalizer(edited, finalizer)) return Call::completed({200, object.dump()});
  return patch(object, finalizersPatch(edited));
}

Call Client::removeFinalizer(const json& object, std::string_view finalizer) {
  json edited = object;
  if (!sdk::removeFinalizer(edited, finalizer)) return Call::completed({200, object.dump()});
  return patch(object, finalizersPatch(edited));
}

}  // namespace wop::sdk
