// What an operator declares in wop_init (ABI v1, wop_declare): the controllers it runs, the
// kinds each reconciles, owns and watches, and how their events map to keys.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cache/field_index.h"
#include "common/status.h"

namespace wop::runtime {

// kNone: cache the kind for reads, but its events wake nobody.
enum class MapTo { kSelf, kOwner, kFunction, kNone };

struct WatchDeclaration {
  std::string apiVersion;
  std::string kind;
  std::string ns;  // "" = all namespaces
  std::string labelSelector;
  MapTo mapTo = MapTo::kSelf;
  std::vector<std::string> predicates;  // only for the primary resource
};

// A field index on a kind (wop_abi.h, "indexes"). It applies to every watch of that kind the
// operator declared, whichever controller declared it.
struct IndexDeclaration {
  std::string apiVersion;
  std::string kind;
  std::string name;  // what a cache read names ("index"): [A-Za-z0-9._/:-], <= 128 bytes
  cache::IndexSpec spec;
};

struct ControllerDeclaration {
  std::string name;
  WatchDeclaration primary;               // "for"
  std::vector<WatchDeclaration> owns;     // mapped to the owner's key
  std::vector<WatchDeclaration> watches;  // mapped as each says
  std::vector<IndexDeclaration> indexes;  // of kinds this controller watches
  int maxConcurrentReconciles = 1;
  int resyncSeconds = 0;
};

// An index's name: 1 to WOP_MAX_INDEX_NAME_BYTES of A-Z a-z 0-9 . _ / : - (it goes into
// messages).
bool isIndexName(std::string_view name);

// Parses and validates a declaration; errors name the field that is wrong.
common::Result<ControllerDeclaration> parseDeclaration(std::string_view json);

// Checks next's indexes against those declared before it by the same operator: at most
// WOP_MAX_INDEXES in all (kResourceExhausted), and one name on one kind names one extractor
// (kInvalidArgument).
common::Status checkOperatorIndexes(const std::vector<ControllerDeclaration>& declared,
                                    const ControllerDeclaration& next);

}  // namespace wop::runtime
