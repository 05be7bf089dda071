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
      return "merge";
    case PatchType::Json:
      return "json";
    case PatchType::Strategic:
      return "strategic";
  }
  return "merge";
}

}  // namespace

std::optional<std::string> Client::cacheRead(const json& request) const {
  std::string out;
  int32_t status = runtime_.host().cacheRead(request.dump(), &out);
  if (status == WOP_ERR_NOT_FOUND) return std::nullopt;
  if (status < 0) {
    log::warn("cache read %s failed: %s", request.dump().c_str(), detail::statusName(status));
    return std::nullopt;
  }
  return out;
}

std::optional<json> Client::get(Kind kind, std::string_view ns, std::string_view name) const {
  auto text = cacheRead(target(kind, ns, name));
  if (!text) return std::nullopt;
  auto object = json::parse(*text, nullptr, false);
  if (!object.is_object()) return std::nullopt;
  return object;
}

std::vector<json> Client::list(Kind kind, std::string_view ns,
                               std::string_view labelSelector) const {
  json request = {{"apiVersion", kind.apiVersion},
                  {"kind", kind.kind},
                  {"namespace", ns},
                  {"labelSelector", labelSelector}};
  std::vector<json> items;
  auto text = cacheRead(request);
  if (!text) return items;
  auto list = json::parse(*text, nullptr, false);
  auto found = fieldAt(list, {"items"});
  if (found == nullptr || !found->is_array()) return items;
  for (auto& item : list["items"]) items.push_back(std::move(item));
  return items;
}

Call Client::send(const json& request) { return Call(runtime_, request.dump()); }

Call Client::getLive(Kind kind, std::string_view ns, std::string_view name) {
  return send(withVerb(target(kind, ns, name), "get"));
}

Call Client::listLive(Kind kind, std::string_view ns, std::string_view labelSelector) {
  json request = {{"verb", "list"},
                  {"apiVersion", kind.apiVersion},
                  {"kind", kind.kind},
                  {"namespace", ns},
                  {"labelSelector", labelSelector}};
  return send(request);
}

Call Client::create(const json& object) {
  auto request = withVerb(targetOf(object), "create");
  request["body"] = object;
  return send(request);
}

Call Client::update(const json& object) {
  auto request = withVerb(targetOf(object), "update");
  request["body"] = object;
  return send(request);
}

Call Client::updateStatus(const json& object) {
  auto request = withVerb(targetOf(object), "updateStatus");
  request["body"] = object;
  return send(request);
}

Call Client::patch(Kind kind, std::string_view ns, std::string_view name, const json& patch,
                   PatchType type) {
  auto request = withVerb(target(kind, ns, name), "patch");
  request["body"] = patch;
  request["patchType"] = patchTypeName(type);
  return send(request);
}

Call Client::patch(const json& object, const json& patch, PatchType type) {
  auto request = withVerb(targetOf(object), "patch");
  request["body"] = patch;
  request["patchType"] = patchTypeName(type);
  return send(request);
}

Call Client::apply(const json& object, std::string_view fieldManager, bool force) {
  auto request = withVerb(targetOf(object), "apply");
  request["body"] = object;
  request["fieldManager"] = fieldManager;
  request["force"] = force;
  return send(request);
}

Call Client::remove(Kind kind, std::string_view ns, std::string_view name,
                    std::string_view propagationPolicy) {
  auto request = withVerb(target(kind, ns, name), "delete");
  if (!propagationPolicy.empty()) request["propagationPolicy"] = propagationPolicy;
  return send(request);
}

Call Client::remove(const json& object, std::string_view propagationPolicy) {
  auto request = withVerb(targetOf(object), "delete");
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
  json request = {{"verb", "event"},
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
