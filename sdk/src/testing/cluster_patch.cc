// Cluster's patch and server-side apply (see wop/testing/cluster.h for what is modelled).
#include <vector>

#include "api_status.h"
#include "wop/object.h"
#include "wop/testing/cluster.h"
#include "wop_abi.h"

namespace wop::testing {

using detail::statusResponse;

namespace {

using Pointer = json::json_pointer;

// The paths of every leaf: values, lists and empty maps (lists are atomic, as with
// server-side apply's default list type).
void leaves(const json& value, const Pointer& at, std::vector<Pointer>& out) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, member] : value.items()) leaves(member, at / key, out);
    return;
  }
  if (!at.empty()) out.push_back(at);
}

std::vector<Pointer> leavesOf(const json& value) {
  std::vector<Pointer> out;
  leaves(value, Pointer(), out);
  return out;
}

// Maps merged key by key; anything else replaced.
void deepMerge(json& into, const json& from) {
  if (!into.is_object() || !from.is_object()) {
    into = from;
    return;
  }
  for (const auto& [key, value] : from.items()) deepMerge(into[key], value);
}

void eraseAt(json& object, const Pointer& at) {
  if (!object.contains(at)) return;
  object.at(at.parent_pointer()).erase(at.back());
}

}  // namespace

sdk::Response Cluster::patch(const Target& target, const json& patch, std::string_view type) {
  auto it = objects_.find(target.key());
  if (it == objects_.end()) {
    return statusResponse(404, "\"" + target.name + "\" of kind " + target.kind + " not found",
                          target.kind, target.name);
  }
  json next = it->second;
  if (type == WOP_PATCH_JSON) {
    if (!patch.is_array()) return statusResponse(400, "a JSON patch is a list of operations");
    try {
      next = next.patch(patch);
    } catch (const json::exception& failed) {
      return statusResponse(422, std::string("the JSON patch failed: ") + failed.what(),
                            target.kind, target.name);
    }
  } else if (type == WOP_PATCH_MERGE || type == WOP_PATCH_STRATEGIC) {
    if (!patch.is_object()) return statusResponse(400, "a merge patch is an object");
    next.merge_patch(patch);
  } else {
    return statusResponse(415, "unknown patch type \"" + std::string(type) + "\"");
  }
  // A resourceVersion in the patch is a precondition: it must be the current one.
  const std::string version = sdk::resourceVersionOf(next);
  if (version != sdk::resourceVersionOf(it->second)) {
    return statusResponse(409,
                          "Operation cannot be fulfilled on " + target.kind + " \"" + target.name +
                              "\": the object has been modified; please apply " +
                              "your changes to the latest version and try again",
                          target.kind, target.name);
  }
  return commit(it->first, std::move(next), false);
}

sdk::Response Cluster::apply(const Target& target, json intent, const std::string& manager,
                             bool force) {
  if (manager.empty()) return statusResponse(400, "server-side apply needs a fieldManager");
  if (!intent.is_object() || !intent.contains("apiVersion") || !intent.contains("kind"))
    return statusResponse(400, "an applied object names its apiVersion and kind");
  if (sdk::nameOf(intent) != target.name)
    return statusResponse(400, "the name of the object does not match the name on the URL");
  const std::string key = target.key();
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    json object = intent;
    object["metadata"].erase("resourceVersion");
    auto created = create(target, std::move(object));
    if (created.ok()) applied_[key][manager] = std::move(intent);
    return created;
  }
  const json& current = it->second;
  const std::string version = sdk::resourceVersionOf(intent);
  if (!version.empty() && version != sdk::resourceVersionOf(current)) {
    return statusResponse(409,
                          "the object has been modified; please apply your changes to "
                          "the latest version and try again",
                          target.kind, target.name);
  }
  auto& managers = applied_[key];
  if (!force) {
    for (const auto& [other, theirs] : managers) {
      if (other == manager) continue;
      for (const auto& at : leavesOf(intent)) {
        if (theirs.contains(at) && theirs.at(at) != intent.at(at) && current.contains(at) &&
            current.at(at) == theirs.at(at)) {
          return statusResponse(
              409,
              "Apply failed with 1 conflict: conflict with \"" + other + "\": " + at.to_string(),
              target.kind, target.name);
        }
      }
    }
  }
  json next = current;
  // Fields this manager applied last time and leaves out now are no longer wanted.
  if (auto last = managers.find(manager); last != managers.end()) {
    for (const auto& at : leavesOf(last->second)) {
      if (!intent.contains(at) && next.contains(at) && next.at(at) == last->second.at(at))
        eraseAt(next, at);
    }
  }
  json merged = intent;
  merged["metadata"].erase("resourceVersion");
  deepMerge(next, merged);
  auto answer = commit(key, std::move(next), false);
  // (commit may have completed a deletion, which forgets the object's managers.)
  if (answer.ok() && objects_.count(key)) applied_[key][manager] = std::move(intent);
  return answer;
}

}  // namespace wop::testing
