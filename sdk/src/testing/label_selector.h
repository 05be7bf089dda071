// LabelSelector: the API server's label selector syntax (a=b, a==b, a!=b, a, !a, a in (x,y),
// a notin (x,y); terms joined by commas), for the fake cluster's lists and cache reads.
// The host has its own (host/src/cache/label_selector.h); this one stays inside the SDK's
// testing kit so the kit needs nothing of the host.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wop::testing::detail {

class LabelSelector {
 public:
  // nullopt if the text is not a selector.
  static std::optional<LabelSelector> parse(std::string_view text);

  // By the object's metadata.labels.
  bool matches(const nlohmann::json& object) const;
  // True if every object this selector matches is matched by `broader` too, judged term by
  // term of `broader` (each must be implied by one term of this selector): what the host asks
  // before it serves a list from a watch's store. Conservative: false when unsure.
  bool within(const LabelSelector& broader) const;

 private:
  enum class Op { kIn, kNotIn, kExists, kDoesNotExist };
  struct Term {
    std::string key;
    Op op = Op::kExists;
    std::vector<std::string> values;  // sorted
  };
  static bool implies(const Term& narrow, const Term& broad);
  std::vector<Term> terms_;
};

}  // namespace wop::testing::detail
