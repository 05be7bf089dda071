// Whether an update of a watched object wakes a controller (DESIGN.md principle 1: an operator
// is entered only when an event passed its declared filters). Predicates look at update events
// only; an add or a delete always wakes the controller, as in controller-runtime.
//
// Comparisons use fields decoded once into CachedObject (generation, labels, hashes), so a
// filter costs no JSON parsing.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "cache/cached_object.h"
#include "common/status.h"

namespace wop::runtime {

enum class Predicate {
  // metadata.generation changed (the spec, for types that track it), or deletion started.
  // Objects without a generation (0: ConfigMaps, Secrets) pass when anything but
  // resourceVersion changed, since they have no spec/status split to filter on.
  kGenerationChanged,
  kLabelsChanged,
  kAnnotationsChanged,
};

// "GenerationChanged", "LabelsChanged", "AnnotationsChanged"; kInvalidArgument otherwise.
common::Result<Predicate> parsePredicate(std::string_view name);
std::string_view predicateName(Predicate predicate);

bool predicatePasses(Predicate predicate, const cache::CachedObject& before,
                     const cache::CachedObject& after);

// Anything but metadata.resourceVersion (and managedFields, dropped at decode) changed.
// Equal hashes are taken as equal content: a 64-bit collision drops one update in 2^64.
bool contentChanged(const cache::CachedObject& before, const cache::CachedObject& after);

// The filter a controller declared. With no predicates, the default: skip updates that changed
// nothing but resourceVersion (relists and no-op writes). With several, an update passes if ANY
// passes, as controller-runtime's predicate.Or: one declaring "GenerationChanged" and
// "LabelsChanged" wants to hear about either.
//
// Immutable after construction; safe to share between threads.
class UpdateFilter {
 public:
  UpdateFilter() = default;
  explicit UpdateFilter(std::vector<Predicate> predicates) : predicates_(std::move(predicates)) {}
  // Fails on the first unknown name, naming it.
  static common::Result<UpdateFilter> parse(const std::vector<std::string_view>& names);

  // An update missing a version (never expected) passes: an extra reconcile is harmless, a
  // missed one is not.
  bool passes(const cache::ObjectPtr& before, const cache::ObjectPtr& after) const;
  const std::vector<Predicate>& predicates() const { return predicates_; }

 private:
  std::vector<Predicate> predicates_;
};

}  // namespace wop::runtime
