// Reconcile keys: "namespace/name", or "name" for cluster-scoped objects (client-go's
// MetaNamespaceKeyFunc). Maps an event's object to the keys of the controllers it wakes, and
// checks keys that come from guests (they are untrusted: DESIGN.md principle 6).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "cache/cached_object.h"
#include "common/limits.h"
#include "common/status.h"

namespace wop::runtime {

// Longest key accepted: a namespace (63) and a name (253) with room to spare, small enough
// that queues of guest-supplied keys stay cheap.

struct ObjectKey {
  std::string ns;  // empty for cluster-scoped objects
  std::string name;

  std::string toString() const { return ns.empty() ? name : ns + "/" + name; }
  bool operator==(const ObjectKey&) const = default;
};

// Accepts "name" or "ns/name": at most limits::kMaxKeyBytes, a namespace that is a DNS label
// ([a-z0-9-], at most 63, alphanumeric at both ends), a non-empty name with no '/', no control
// characters and not "." or ".." (the API server's path segment rule). kInvalidArgument
// otherwise, saying which rule failed.
common::Result<ObjectKey> parseKey(std::string_view key);

// How an event's object becomes a reconcile key.
struct KeyMapping {
  enum class Kind {
    kSelf,   // the object's own key (a controller's primary resource)
    kOwner,  // its controller owner's key (a resource the controller creates and owns)
  };
  Kind kind = Kind::kSelf;
  // kOwner only: the owner reference's kind must be this one (e.g. "Deployment"); empty: any.
  std::string ownerKind;
  // kOwner only: the owner's kind is cluster-scoped (a namespaced object may have such an
  // owner), so its key is its name alone. Owner references do not say; discovery does.
  bool ownerClusterScoped = false;

  static KeyMapping self() { return {Kind::kSelf, {}, false}; }
  static KeyMapping owner(std::string kind = {}, bool clusterScoped = false) {
    return {Kind::kOwner, std::move(kind), clusterScoped};
  }
};

// The key to reconcile for object, or nullopt if it maps to none (kOwner and no owner reference
// with controller: true, of ownerKind if set, with a name). A namespaced owner lives in the
// object's namespace: Kubernetes forbids owners in other namespaces.
std::optional<std::string> mapToKey(const KeyMapping& mapping, const cache::CachedObject& object);

}  // namespace wop::runtime
