#include "wop/testing/cluster.h"

#include <algorithm>

#include "api_status.h"
#include "label_selector.h"
#include "wop/object.h"
#include "wop_abi.h"

namespace wop::testing {

using detail::statusResponse;

namespace {

std::string keyFor(std::string_view apiVersion, std::string_view kind, std::string_view ns,
                   std::string_view name) {
  std::string key;
  for (auto part : {apiVersion, kind, ns}) key.append(part).push_back('|');
  return key.append(name);
}

std::string kindPrefix(std::string_view apiVersion, std::string_view kind) {
  std::string prefix;
  for (auto part : {apiVersion, kind}) prefix.append(part).push_back('|');
  return prefix;
}

std::string quoted(const std::string& kind, const std::string& name) {
  return kind + " \"" + name + "\"";
}

sdk::Response ok(int32_t status, const json& object) { return {status, object.dump()}; }

// Everything but metadata and status: what a change of bumps the generation.
json content(json object) {
  if (object.is_object()) {
    object.erase("metadata");
    object.erase("status");
  }
  return object;
}

std::vector<std::string> finalizersOf(const json& object) {
  std::vector<std::string> out;
  if (auto list = sdk::fieldAt(object, {"metadata", "finalizers"}); list && list->is_array()) {
    for (const auto& item : *list)
      if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace

std::string Cluster::Target::key() const { return keyFor(apiVersion, kind, ns, name); }

Cluster::Target Cluster::targetOf(const json& request) {
  auto field = [&](const char* name) {
    auto it = request.find(name);
    return it != request.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  return {field("apiVersion"), field("kind"), field("namespace"), field("name")};
}

// ---------------------------------------------------------------- set up and inspect

const json& Cluster::put(json object) {
  auto& metadata = object["metadata"];
  if (!metadata.contains("uid")) metadata["uid"] = "uid-" + std::to_string(++uids_);
  if (!metadata.contains("creationTimestamp")) metadata["creationTimestamp"] = now_;
  if (!metadata.contains("generation")) metadata["generation"] = 1;
  metadata["resourceVersion"] = nextResourceVersion();
  const auto key = keyFor(object.value("apiVersion", ""), object.value("kind", ""),
                          sdk::namespaceOf(object), sdk::nameOf(object));
  return objects_[key] = std::move(object);
}

const json* Cluster::find(sdk::Kind kind, std::string_view ns, std::string_view name) const {
  auto it = objects_.find(keyFor(kind.apiVersion, kind.kind, ns, name));
  return it == objects_.end() ? nullptr : &it->second;
}

std::vector<json> Cluster::list(sdk::Kind kind, std::string_view ns,
                                std::string_view labelSelector) const {
  std::vector<json> out;
  auto selector = detail::LabelSelector::parse(labelSelector);
  if (!selector) return out;
  const auto prefix = kindPrefix(kind.apiVersion, kind.kind);
  for (auto it = objects_.lower_bound(prefix); it != objects_.end(); ++it) {
    if (!it->first.starts_with(prefix)) break;
    if (!ns.empty() && sdk::namespaceOf(it->second) != ns) continue;
    if (selector->matches(it->second)) out.push_back(it->second);
  }
  return out;
}

bool Cluster::erase(sdk::Kind kind, std::string_view ns, std::string_view name) {
  const auto key = keyFor(kind.apiVersion, kind.kind, ns, name);
  applied_.erase(key);
  return objects_.erase(key) > 0;
}

// ---------------------------------------------------------------- the API server

sdk::Response Cluster::serve(const json& request) {
  if (!request.is_object()) return statusResponse(400, "the request is not a JSON object");
  const Target target = targetOf(request);
  if (target.apiVersion.empty() || target.kind.empty())
    return statusResponse(400, "the request names no apiVersion and kind");
  const std::string verb = request.value("verb", "");
  const bool named = !target.name.empty();
  const json body = request.value("body", json());
  if (verb == WOP_VERB_LIST) return list(target, request.value("labelSelector", ""));
  if (verb == WOP_VERB_CREATE) return create(target, body);
  if (!named) return statusResponse(400, verb + " needs a name");
  if (verb == WOP_VERB_GET) return get(target);
  if (verb == WOP_VERB_UPDATE) return update(target, body, false);
  if (verb == WOP_VERB_UPDATE_STATUS) return update(target, body, true);
  if (verb == WOP_VERB_PATCH) return patch(target, body, request.value("patchType", "merge"));
  if (verb == WOP_VERB_APPLY) {
    return apply(target, body, request.value("fieldManager", ""), request.value("force", false));
  }
  if (verb == WOP_VERB_DELETE) return remove(target);
  return statusResponse(405, "the fake cluster does not serve the verb \"" + verb + "\"");
}

sdk::Response Cluster::get(const Target& target) const {
  auto it = objects_.find(target.key());
  if (it == objects_.end())
    return statusResponse(404, quoted(target.kind, target.name) + " not found", target.kind,
                          target.name);
  return ok(200, it->second);
}

sdk::Response Cluster::list(const Target& target, std::string_view labelSelector) const {
  if (!detail::LabelSelector::parse(labelSelector))
    return statusResponse(400,
                          "unable to parse requirement: \"" + std::string(labelSelector) + "\"");
  json items = json::array();
  for (auto& item : list({target.apiVersion, target.kind}, target.ns, labelSelector))
    items.push_back(std::move(item));
  return ok(200, {{"apiVersion", target.apiVersion},
                  {"kind", target.kind + "List"},
                  {"metadata", {{"resourceVersion", std::to_string(resourceVersion_)}}},
                  {"items", std::move(items)}});
}

sdk::Response Cluster::create(const Target& target, json body) {
  if (!body.is_object()) return statusResponse(400, "the body is not an object");
  auto& metadata = body["metadata"];
  if (!metadata.is_object()) return statusResponse(400, "metadata is not an object");
  std::string ns = sdk::namespaceOf(body);
  if (!ns.empty() && ns != target.ns) {
    return statusResponse(400,
                          "the namespace of the provided object does not match the namespace "
                          "sent on the request");
  }
  if (!target.ns.empty()) metadata["namespace"] = target.ns;
  if (sdk::nameOf(body).empty()) {
    const std::string prefix = metadata.value("generateName", "");
    if (prefix.empty())
      return statusResponse(422, target.kind + ": metadata.name: Required value", target.kind);
    metadata["name"] = prefix + "x" + std::to_string(uids_ + 1);
  }
  if (metadata.contains("resourceVersion"))
    return statusResponse(500, "resourceVersion should not be set on objects to be created");
  const std::string name = sdk::nameOf(body);
  const auto key = keyFor(target.apiVersion, target.kind, target.ns, name);
  if (objects_.count(key))
    return statusResponse(409, quoted(target.kind, name) + " already exists", target.kind, name);
  for (const char* owned : {"uid", "creationTimestamp", "deletionTimestamp", "generation"})
    metadata.erase(owned);
  body.erase("status");
  body["apiVersion"] = target.apiVersion;
  body["kind"] = target.kind;
  return ok(201, put(std::move(body)));
}

sdk::Response Cluster::update(const Target& target, json body, bool statusOnly) {
  auto it = objects_.find(target.key());
  if (it == objects_.end())
    return statusResponse(404, quoted(target.kind, target.name) + " not found", target.kind,
                          target.name);
  if (!body.is_object()) return statusResponse(400, "the body is not an object");
  if (sdk::nameOf(body) != target.name)
    return statusResponse(400, "the name of the object does not match the name on the URL");
  const std::string version = sdk::resourceVersionOf(body);
  if (!version.empty() && version != sdk::resourceVersionOf(it->second)) {
    return statusResponse(409,
                          "Operation cannot be fulfilled on " + quoted(target.kind, target.name) +
                              ": the object has been modified; please apply your changes to "
                              "the latest version and try again",
                          target.kind, target.name);
  }
  return commit(it->first, std::move(body), statusOnly);
}

sdk::Response Cluster::commit(const std::string& key, json next, bool statusOnly) {
  const json& current = objects_.at(key);
  if (statusOnly) {
    json status = next.contains("status") ? next["status"] : json();
    next = current;
    if (status.is_null()) {
      next.erase("status");
    } else {
      next["status"] = std::move(status);
    }
  } else if (current.contains("status")) {
    next["status"] = current.at("status");
  } else {
    next.erase("status");
  }
  auto& metadata = next["metadata"];
  const auto& before = current.at("metadata");
  for (const char* owned : {"uid", "creationTimestamp", "namespace", "name", "deletionTimestamp",
                            "deletionGracePeriodSeconds"}) {
    if (before.contains(owned)) {
      metadata[owned] = before.at(owned);
    } else {
      metadata.erase(owned);
    }
  }
  next["apiVersion"] = current.at("apiVersion");
  next["kind"] = current.at("kind");
  const bool deleting = sdk::isBeingDeleted(current);
  if (deleting) {
    auto old = finalizersOf(current);
    for (const auto& finalizer : finalizersOf(next)) {
      if (std::find(old.begin(), old.end(), finalizer) == old.end()) {
        return statusResponse(422,
                              "metadata.finalizers: Forbidden: no new finalizers can be added "
                              "if the object is being deleted, found new finalizers [\"" +
                                  finalizer + "\"]",
                              next.value("kind", ""), sdk::nameOf(next));
      }
    }
  }
  int64_t generation = sdk::getInt(current, {"metadata", "generation"}).value_or(1);
  if (content(next) != content(current)) ++generation;
  metadata["generation"] = generation;
  metadata["resourceVersion"] = nextResourceVersion();
  if (metadata.contains("finalizers") && metadata["finalizers"].empty())
    metadata.erase("finalizers");
  json stored = objects_[key] = std::move(next);
  if (deleting && finalizersOf(stored).empty()) removeNow(key);
  return ok(200, stored);
}

sdk::Response Cluster::remove(sdk::Kind kind, std::string_view ns, std::string_view name) {
  return remove(Target{std::string(kind.apiVersion), std::string(kind.kind), std::string(ns),
                       std::string(name)});
}

sdk::Response Cluster::remove(const Target& target) {
  auto it = objects_.find(target.key());
  if (it == objects_.end())
    return statusResponse(404, quoted(target.kind, target.name) + " not found", target.kind,
                          target.name);
  json& object = it->second;
  if (finalizersOf(object).empty()) {
    json gone = object;
    removeNow(it->first);
    return ok(200, gone);
  }
  if (!sdk::isBeingDeleted(object)) {
    object["metadata"]["deletionTimestamp"] = now_;
    object["metadata"]["deletionGracePeriodSeconds"] = 0;
    object["metadata"]["resourceVersion"] = nextResourceVersion();
  }
  return ok(200, object);
}

void Cluster::removeNow(std::string key) {
  auto it = objects_.find(key);
  if (it == objects_.end()) return;
  const std::string uid = sdk::uidOf(it->second);
  objects_.erase(it);
  applied_.erase(key);
  // The garbage collector: dependents none of whose owners exist any more.
  auto exists = [&](const std::string& ownerUid) {
    return std::any_of(objects_.begin(), objects_.end(),
                       [&](const auto& entry) { return sdk::uidOf(entry.second) == ownerUid; });
  };
  std::vector<Target> orphans;
  for (const auto& [dependentKey, object] : objects_) {
    auto owners = sdk::fieldAt(object, {"metadata", "ownerReferences"});
    if (owners == nullptr || !owners->is_array()) continue;
    bool ownedByGone = false, ownedByLiving = false;
    for (const auto& owner : *owners) {
      const std::string ownerUid = owner.value("uid", "");
      if (ownerUid == uid) {
        ownedByGone = true;
      } else if (exists(ownerUid)) {
        ownedByLiving = true;
      }
    }
    if (ownedByGone && !ownedByLiving) {
      orphans.push_back({object.value("apiVersion", ""), object.value("kind", ""),
                         sdk::namespaceOf(object), sdk::nameOf(object)});
    }
  }
  for (const auto& orphan : orphans) (void)remove(orphan);
}

}  // namespace wop::testing
