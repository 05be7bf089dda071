// A label selector, parsed once: which objects a watch or a cache read selects, and whether
// one selector's objects are all held by a watch with another (so a read can be served from
// that watch's store).
//
// The syntax is the API server's (k8s.io/apimachinery/pkg/labels): terms joined by commas,
// each one of
//   a=b  a==b  a!=b  a  !a  a in (x,y)  a notin (x,y)
// Keys are qualified names ([prefix/]name), values label values, as the server checks them.
// "a=b" and "a in (b)" mean the same and are kept as one form (so are "a!=b" and
// "a notin (b)"). The server's "a>1" and "a<1" are not supported.
//
// Immutable once parsed; safe to share between threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cache/cached_object.h"
#include "common/status.h"

namespace wop::cache {

class LabelSelector {
 public:
  // The API server's syntax: a=b, a==b, a!=b, a, !a, a in (x,y), a notin (x,y); terms joined by
  // commas. An error names the bad term. Empty text is the selector that matches everything.
  static common::Result<LabelSelector> parse(std::string_view text);

  // Matches everything (no terms).
  LabelSelector() = default;

  bool empty() const { return requirements_.empty(); }
  // By CachedObject::label().
  bool matches(const CachedObject& object) const;
  // True if every object this selector matches is also matched by `broader`, so a watch with
  // selector `broader` holds all of them (conservative: false when unsure).
  bool within(const LabelSelector& broader) const;
  // Canonical text: terms sorted by key, values sorted, duplicates dropped; "" when empty.
  // Parses back to an equal selector.
  std::string toString() const;

  friend bool operator==(const LabelSelector&, const LabelSelector&) = default;

 private:
  enum class Operator { kIn, kNotIn, kExists, kDoesNotExist };

  struct Requirement {
    std::string key;
    Operator op = Operator::kExists;
    std::vector<std::string> values;  // sorted, unique; empty for kExists and kDoesNotExist

    friend auto operator<=>(const Requirement&, const Requirement&) = default;
  };

  // The label states a selector allows for one key: absent or not, and a set of values that is
  // either finite (`values`) or everything except `values`.
  struct Allowed {
    bool absent = true;
    bool allValuesExcept = true;
    std::vector<std::string> values;  // sorted, unique
  };

  static common::Result<Requirement> parseTerm(std::string_view term);
  Allowed allowedFor(std::string_view key) const;
  static bool subset(const Allowed& narrow, const Allowed& broad);

  std::vector<Requirement> requirements_;  // sorted, unique
};

// A label (or annotation) key as the API server allows it: [DNS-1123 subdomain "/"] name, the
// name at most 63 of A-Z a-z 0-9 - _ . starting and ending with a letter or digit.
common::Status checkLabelKey(std::string_view key);
// A label value: empty, or a name as above.
bool isLabelValue(std::string_view value);

}  // namespace wop::cache
