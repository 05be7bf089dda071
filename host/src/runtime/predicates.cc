#include "runtime/predicates.h"

#include <algorithm>
#include <string>

#include "wop_abi.h"

namespace wop::runtime {

using common::Status;
using common::StatusCode;

namespace {

constexpr std::pair<Predicate, std::string_view> kNames[] = {
    {Predicate::kGenerationChanged, WOP_PREDICATE_GENERATION_CHANGED},
    {Predicate::kLabelsChanged, WOP_PREDICATE_LABELS_CHANGED},
    {Predicate::kAnnotationsChanged, WOP_PREDICATE_ANNOTATIONS_CHANGED},
};

bool generationChanged(const cache::CachedObject& before, const cache::CachedObject& after) {
  // A finalizer must run when deletion starts, whether or not the server bumped generation.
  if (before.deleting != after.deleting) return true;
  if (before.generation == 0 || after.generation == 0) return contentChanged(before, after);
  return before.generation != after.generation;
}

}  // namespace

common::Result<Predicate> parsePredicate(std::string_view name) {
  for (const auto& [predicate, text] : kNames) {
    if (text == name) return predicate;
  }
  // Quote at most a prefix: the name comes from a guest's declaration.
  constexpr size_t kQuoted = 64;
  return Status(StatusCode::kInvalidArgument,
                "unknown predicate \"" + std::string(name.substr(0, kQuoted)) +
                    "\" (known: " WOP_PREDICATE_GENERATION_CHANGED ", " WOP_PREDICATE_LABELS_CHANGED
                    ", " WOP_PREDICATE_ANNOTATIONS_CHANGED ")");
}

std::string_view predicateName(Predicate predicate) {
  for (const auto& [known, text] : kNames) {
    if (known == predicate) return text;
  }
  return "unknown";
}

bool contentChanged(const cache::CachedObject& before, const cache::CachedObject& after) {
  return before.contentHash != after.contentHash;
}

bool predicatePasses(Predicate predicate, const cache::CachedObject& before,
                     const cache::CachedObject& after) {
  switch (predicate) {
    case Predicate::kGenerationChanged:
      return generationChanged(before, after);
    case Predicate::kLabelsChanged:
      return before.labels != after.labels;
    case Predicate::kAnnotationsChanged:
      return before.annotationsHash != after.annotationsHash;
  }
  return true;  // unreachable for valid enumerators; waking is the safe mistake
}

common::Result<UpdateFilter> UpdateFilter::parse(const std::vector<std::string_view>& names) {
  std::vector<Predicate> predicates;
  for (std::string_view name : names) {
    auto predicate = parsePredicate(name);
    if (!predicate) return predicate.status();
    if (std::find(predicates.begin(), predicates.end(), *predicate) == predicates.end()) {
      predicates.push_back(*predicate);
    }
  }
  return UpdateFilter(std::move(predicates));
}

bool UpdateFilter::passes(const cache::ObjectPtr& before, const cache::ObjectPtr& after) const {
  if (!before || !after) return true;
  if (predicates_.empty()) return contentChanged(*before, *after);
  return std::any_of(predicates_.begin(), predicates_.end(), [&](Predicate predicate) {
    return predicatePasses(predicate, *before, *after);
  });
}

}  // namespace wop::runtime
