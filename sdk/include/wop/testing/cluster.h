// Cluster: an in-memory API server for unit tests of operators (wop/testing/fake_host.h
// serves an operator's cache reads and API calls from one). Objects are kept by apiVersion,
// kind, namespace and name, as JSON, and written the way the API server writes them:
//
//   - create: 201; 409 AlreadyExists if the name is taken; generateName gets a suffix; the
//     server fills uid, resourceVersion, generation (1) and creationTimestamp; status dropped.
//   - update / patch / apply: 404 if absent; 409 Conflict if the body (or the patched result)
//     carries a resourceVersion that is not the current one. resourceVersion goes up on every
//     write; generation goes up when anything but metadata and status changes. The status is a
//     subresource for every kind: these verbs keep the stored status, updateStatus changes
//     only the status.
//   - patch: merge (RFC 7386) and JSON patch (RFC 6902); a strategic merge patch is applied
//     as a merge patch (lists are replaced, not merged by key).
//   - apply (server-side, simplified): the intent is merged into the object (maps merged,
//     lists and values replaced); fields the same manager applied before and leaves out now
//     are removed; without force, a field another manager applied with another value is a
//     409 Conflict. No managedFields are written.
//   - delete: with finalizers, sets deletionTimestamp and keeps the object until a write
//     empties the list (no new finalizer may be added then: 422); without, removes it at
//     once. Then objects it owned (ownerReferences by uid) and that have no other existing
//     owner are deleted too, as the garbage collector would in the background.
//
// Not modelled: admission, validation beyond names, defaulting, managedFields, watch events,
// resourceVersion precondition on delete, dry runs, list pagination.
//
// Not thread-safe: one test thread.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "wop/kind.h"
#include "wop/response.h"

namespace wop::testing {

using nlohmann::json;

class Cluster {
 public:
  // ---- set up and inspect (no API semantics: no conflict checks, no finalizers)
  // Stores `object` (apiVersion, kind, metadata.name required; metadata.namespace optional),
  // replacing any object of that name, and fills uid, creationTimestamp and generation when
  // missing; resourceVersion always gets the next value. Returns the stored object.
  const json& put(json object);
  // The stored object, or null; valid until the next write.
  const json* find(sdk::Kind kind, std::string_view ns, std::string_view name) const;
  // Objects of kind in ns ("" = every namespace) whose labels match the selector ("" =
  // all), ordered by namespace and name. An unparsable selector matches nothing.
  std::vector<json> list(sdk::Kind kind, std::string_view ns,
                         std::string_view labelSelector = "") const;
  // Removes an object at once (no finalizers, no garbage collection); false if absent.
  bool erase(sdk::Kind kind, std::string_view ns, std::string_view name);
  size_t size() const { return objects_.size(); }

  // ---- the API server
  // Deletes as a client's DELETE does (finalizers, garbage collection): 200 or 404.
  sdk::Response remove(sdk::Kind kind, std::string_view ns, std::string_view name);
  // Answers one request of the wop_api_call JSON shape (wop_abi.h; not "event", which the
  // fake host records itself): an HTTP status and a body, the object or a metav1.Status.
  sdk::Response serve(const json& request);

  // The timestamp written as creationTimestamp and deletionTimestamp.
  void setNow(std::string rfc3339) { now_ = std::move(rfc3339); }

 private:
  struct Target {
    std::string apiVersion, kind, ns, name;
    std::string key() const;
  };
  static Target targetOf(const json& request);
  sdk::Response get(const Target& target) const;
  sdk::Response list(const Target& target, std::string_view labelSelector) const;
  sdk::Response create(const Target& target, json body);
  sdk::Response update(const Target& target, json body, bool statusOnly);
  sdk::Response patch(const Target& target, const json& patch, std::string_view type);
  sdk::Response apply(const Target& target, json intent, const std::string& manager, bool force);
  sdk::Response remove(const Target& target);
  // Writes `next` over the stored object at key (which exists): keeps what the server owns,
  // checks finalizers, bumps resourceVersion and generation, completes a pending deletion.
  sdk::Response commit(const std::string& key, json next, bool statusOnly);
  // Deletes the stored object at key now and collects what it owned.
  void removeNow(std::string key);  // by value: callers pass keys of the map it erases from
  std::string nextResourceVersion() { return std::to_string(++resourceVersion_); }

  std::map<std::string, json> objects_;  // by Target::key()
  // Server-side apply: the last intent of each field manager, by object key.
  std::map<std::string, std::map<std::string, json>> applied_;
  uint64_t resourceVersion_ = 0;
  uint64_t uids_ = 0;
  std::string now_ = "2026-01-01T00:00:00Z";
};

}  // namespace wop::testing
