// What an operator declares in wop_init (ABI v1, wop_declare): the controllers it runs, the
// kinds each reconciles, owns and watches, and how their events map to keys.
#pragma once

#include <string>
#include <string_view>
#include <vector>

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

struct ControllerDeclaration {
  std::string name;
  WatchDeclaration primary;               // "for"
  std::vector<WatchDeclaration> owns;     // mapped to the owner's key
  std::vector<WatchDeclaration> watches;  // mapped as each says
  int maxConcurrentReconciles = 1;
  int resyncSeconds = 0;
};

// Parses and validates a declaration; errors name the field that is wrong.
common::Result<ControllerDeclaration> parseDeclaration(std::string_view json);

}  // namespace wop::runtime
