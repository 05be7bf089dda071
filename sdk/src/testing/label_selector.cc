#include "label_selector.h"

#include <algorithm>

namespace wop::testing::detail {
namespace {

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

// Splits at the commas outside parentheses; nullopt if they do not balance.
std::optional<std::vector<std::string>> splitOutside(std::string_view text) {
  std::vector<std::string> parts;
  size_t start = 0;
  int depth = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : ',';
    depth += c == '(' ? 1 : c == ')' ? -1 : 0;
    if (depth < 0 || depth > 1) return std::nullopt;
    if (c == ',' && depth == 0) {
      parts.push_back(trim(text.substr(start, i - start)));
      start = i + 1;
    }
  }
  if (depth != 0) return std::nullopt;
  return parts;
}

const std::string* labelOf(const nlohmann::json& object, const std::string& key) {
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return nullptr;
  auto labels = metadata->find("labels");
  if (labels == metadata->end() || !labels->is_object()) return nullptr;
  auto value = labels->find(key);
  if (value == labels->end() || !value->is_string()) return nullptr;
  return &value->get_ref<const std::string&>();
}

bool includes(const std::vector<std::string>& set, const std::vector<std::string>& subset) {
  return std::includes(set.begin(), set.end(), subset.begin(), subset.end());
}

bool disjoint(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return std::none_of(a.begin(), a.end(), [&](const std::string& v) {
    return std::binary_search(b.begin(), b.end(), v);
  });
}

}  // namespace

std::optional<LabelSelector> LabelSelector::parse(std::string_view text) {
  LabelSelector selector;
  if (trim(text).empty()) return selector;
  auto parts = splitOutside(text);
  if (!parts) return std::nullopt;
  for (const auto& part : *parts) {
    if (part.empty()) return std::nullopt;
    Term term;
    if (part.front() == '!') {
      term.key = trim(std::string_view(part).substr(1));
      term.op = Op::kDoesNotExist;
    } else {
      const auto keyEnd = std::min(part.find_first_of(" \t=!("), part.size());
      term.key = part.substr(0, keyEnd);
      std::string rest = trim(std::string_view(part).substr(keyEnd));
      if (rest.starts_with("!=") || rest.starts_with("=")) {
        term.op = rest.starts_with("!=") ? Op::kNotIn : Op::kIn;
        const size_t skip = rest.starts_with("==") || rest.starts_with("!=") ? 2 : 1;
        term.values.push_back(trim(std::string_view(rest).substr(skip)));
      } else if (rest.starts_with("in") || rest.starts_with("notin")) {
        term.op = rest.starts_with("in") ? Op::kIn : Op::kNotIn;
        std::string set = trim(std::string_view(rest).substr(term.op == Op::kIn ? 2 : 5));
        if (set.size() < 2 || set.front() != '(' || set.back() != ')') return std::nullopt;
        std::string_view inner = std::string_view(set).substr(1, set.size() - 2);
        while (true) {
          const auto comma = inner.find(',');
          term.values.push_back(trim(inner.substr(0, comma)));
          if (comma == std::string_view::npos) break;
          inner.remove_prefix(comma + 1);
        }
      } else if (!rest.empty()) {
        return std::nullopt;
      }
    }
    if (term.key.empty()) return std::nullopt;
    std::sort(term.values.begin(), term.values.end());
    selector.terms_.push_back(std::move(term));
  }
  return selector;
}

bool LabelSelector::matches(const nlohmann::json& object) const {
  for (const auto& term : terms_) {
    const std::string* value = labelOf(object, term.key);
    const bool listed = value && std::binary_search(term.values.begin(), term.values.end(), *value);
    switch (term.op) {
      case Op::kIn:
        if (!listed) return false;
        break;
      case Op::kNotIn:
        if (listed) return false;
        break;
      case Op::kExists:
        if (!value) return false;
        break;
      case Op::kDoesNotExist:
        if (value) return false;
        break;
    }
  }
  return true;
}

bool LabelSelector::implies(const Term& narrow, const Term& broad) {
  if (narrow.key != broad.key) return false;
  switch (broad.op) {
    case Op::kExists:
      return narrow.op == Op::kIn || narrow.op == Op::kExists;
    case Op::kDoesNotExist:
      return narrow.op == Op::kDoesNotExist;
    case Op::kIn:
      return narrow.op == Op::kIn && includes(broad.values, narrow.values);
    case Op::kNotIn:
      return narrow.op == Op::kDoesNotExist ||
             (narrow.op == Op::kIn && disjoint(narrow.values, broad.values)) ||
             (narrow.op == Op::kNotIn && includes(narrow.values, broad.values));
  }
  return false;
}

bool LabelSelector::within(const LabelSelector& broader) const {
  return std::all_of(broader.terms_.begin(), broader.terms_.end(), [&](const Term& broad) {
    return std::any_of(terms_.begin(), terms_.end(),
                       [&](const Term& narrow) { return implies(narrow, broad); });
  });
}

}  // namespace wop::testing::detail
