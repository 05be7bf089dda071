// An object as the informer cache keeps it: the fields that indexes, predicates and key
// mapping need, decoded once, plus the object's minified JSON (what a guest reads). Immutable
// and shared: readers hold a shared_ptr, so a relist or an update never invalidates a read.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace wop::cache {

struct OwnerReference {
  std::string uid;
  std::string kind;
  std::string name;
  bool controller = false;
};

struct CachedObject {
  std::string ns;  // empty for cluster-scoped objects
  std::string name;
  std::string uid;
  std::string resourceVersion;
  int64_t generation = 0;
  bool deleting = false;                                    // metadata.deletionTimestamp is set
  std::vector<std::pair<std::string, std::string>> labels;  // sorted by key
  std::vector<OwnerReference> owners;
  std::string json;
  // FNV-1a 64 hashes computed once at decode, so predicates compare two versions without
  // parsing: of json without the metadata.resourceVersion member (equal: nothing else
  // changed), and of metadata.annotations' JSON (0 if there are none).
  uint64_t contentHash = 0;
  uint64_t annotationsHash = 0;

  // "namespace/name", or "name" for cluster-scoped objects: the work-queue key.
  std::string key() const { return ns.empty() ? name : ns + "/" + name; }
  // Bytes of memory this object holds (struct + heap), for the cache's accounting.
  size_t memoryBytes() const;
  const std::string* label(std::string_view key) const;
};

using ObjectPtr = std::shared_ptr<const CachedObject>;

struct DecodeOptions {
  bool dropManagedFields = true;  // metadata.managedFields: large, and operators rarely read it
  // Objects inside a LIST carry no apiVersion/kind; these are written into the stored JSON.
  std::string apiVersion;
  std::string kind;
};

// Decodes one object (an element of a parsed document). Fails if metadata.name is missing.
common::Result<ObjectPtr> decodeObject(simdjson::dom::element object, const DecodeOptions& options);

// Parses json and decodes it; parser is reused across calls for its buffers.
common::Result<ObjectPtr> decodeObjectJson(simdjson::dom::parser& parser, std::string_view json,
                                           const DecodeOptions& options);

}  // namespace wop::cache
