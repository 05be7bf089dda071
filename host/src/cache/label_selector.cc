#include "cache/label_selector.h"

#include <algorithm>
#include <iterator>

#include "common/limits.h"
#include "kube/api_names.h"

namespace wop::cache {
namespace {

using common::Status;
using common::StatusCode;

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

bool isAlphanumeric(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63 bytes: a label's name and its value.
bool isLabelName(std::string_view text) {
  if (text.empty() || text.size() > limits::kMaxDnsLabelBytes) return false;
  if (!isAlphanumeric(text.front()) || !isAlphanumeric(text.back())) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return isAlphanumeric(c) || c == '-' || c == '_' || c == '.'; });
}

// A qualified name: [DNS-1123 subdomain "/"] label name.
Status checkKey(std::string_view key) {
  const auto slash = key.find('/');
  if (slash != std::string_view::npos && !kube::isDns1123Subdomain(key.substr(0, slash)))
    return {
        StatusCode::kInvalidArgument,
        "the key's prefix \"" + std::string(key.substr(0, slash)) + "\" is not a DNS subdomain"};
  const auto name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  if (!isLabelName(name))
    return {StatusCode::kInvalidArgument,
            "\"" + std::string(key) +
                "\" is not a label key ([prefix/]name, the name at most 63 of A-Z a-z 0-9 - _ "
                "., starting and ending with a letter or digit)"};
  return Status::ok();
}

Status checkValue(std::string_view value) {
  if (value.empty() || isLabelName(value)) return Status::ok();
  return {StatusCode::kInvalidArgument,
          "\"" + std::string(value) +
              "\" is not a label value (at most 63 of A-Z a-z 0-9 - _ ., starting and ending "
              "with a letter or digit)"};
}

// Splits at the commas outside parentheses.
common::Result<std::vector<std::string_view>> splitTerms(std::string_view text) {
  std::vector<std::string_view> terms;
  size_t start = 0;
  int depth = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : ',';
    if (c == '(') depth++;
    if (c == ')') depth--;
    if (depth < 0 || depth > 1 || (i == text.size() && depth != 0)) {
      const auto end = text.find(',', i);
      return Status{StatusCode::kInvalidArgument,
                    "label selector term \"" + std::string(trim(text.substr(start, end - start))) +
                        "\": unbalanced parentheses"};
    }
    if (c == ',' && depth == 0) {
      terms.push_back(trim(text.substr(start, i - start)));
      start = i + 1;
    }
  }
  return terms;
}

// "in (x,y)" after the key: the values between the parentheses.
common::Result<std::vector<std::string>> parseSet(std::string_view rest) {
  rest = trim(rest);
  if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')')
    return Status{StatusCode::kInvalidArgument, "expected a list of values in parentheses"};
  std::vector<std::string> values;
  std::string_view inner = rest.substr(1, rest.size() - 2);
  if (trim(inner).empty())
    return Status{StatusCode::kInvalidArgument, "the list of values is empty"};
  while (true) {
    const auto comma = inner.find(',');
    const auto value = trim(inner.substr(0, comma));
    if (auto status = checkValue(value); !status.isOk()) return status;
    values.emplace_back(value);
    if (comma == std::string_view::npos) break;
    inner.remove_prefix(comma + 1);
  }
  return values;
}

bool startsWithWord(std::string_view text, std::string_view word) {
  if (!text.starts_with(word)) return false;
  if (text.size() == word.size()) return true;
  const char next = text[word.size()];
  return next == ' ' || next == '\t' || next == '(';
}

void sortUnique(std::vector<std::string>& values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
}

}  // namespace

common::Result<LabelSelector> LabelSelector::parse(std::string_view text) {
  if (auto status = kube::checkLabelSelector(text); !status.isOk()) return status;
  LabelSelector selector;
  if (trim(text).empty()) return selector;
  auto terms = splitTerms(text);
  if (!terms) return terms.status();
  for (const auto term : *terms) {
    auto requirement = parseTerm(term);
    if (!requirement) {
      return Status{StatusCode::kInvalidArgument, "label selector term \"" + std::string(term) +
                                                      "\": " + requirement.status().message()};
    }
    selector.requirements_.push_back(std::move(*requirement));
  }
  auto& requirements = selector.requirements_;
  std::sort(requirements.begin(), requirements.end());
  requirements.erase(std::unique(requirements.begin(), requirements.end()), requirements.end());
  return selector;
}

common::Result<LabelSelector::Requirement> LabelSelector::parseTerm(std::string_view term) {
  if (term.empty()) return Status{StatusCode::kInvalidArgument, "the term is empty"};
  Requirement requirement;
  if (term.front() == '!') {
    requirement.key = std::string(trim(term.substr(1)));
    requirement.op = Operator::kDoesNotExist;
    if (auto status = checkKey(requirement.key); !status.isOk()) return status;
    return requirement;
  }
  const auto keyEnd = std::min(term.find_first_of(" \t=!()"), term.size());
  requirement.key = std::string(term.substr(0, keyEnd));
  if (auto status = checkKey(requirement.key); !status.isOk()) return status;
  const auto rest = trim(term.substr(keyEnd));
  if (rest.empty()) {
    requirement.op = Operator::kExists;
    return requirement;
  }
  if (rest.starts_with("=") || rest.starts_with("!=")) {
    requirement.op = rest.starts_with("!=") ? Operator::kNotIn : Operator::kIn;
    const size_t operatorLength = rest.starts_with("==") || rest.starts_with("!=") ? 2 : 1;
    const auto value = trim(rest.substr(operatorLength));
    if (auto status = checkValue(value); !status.isOk()) return status;
    requirement.values.emplace_back(value);
    return requirement;
  }
  for (const auto& [word, op] : {std::pair{std::string_view("in"), Operator::kIn},
                                 std::pair{std::string_view("notin"), Operator::kNotIn}}) {
    if (!startsWithWord(rest, word)) continue;
    auto values = parseSet(rest.substr(word.size()));
    if (!values) return values.status();
    requirement.op = op;
    requirement.values = std::move(*values);
    sortUnique(requirement.values);
    return requirement;
  }
  return Status{StatusCode::kInvalidArgument,
                "expected =, ==, !=, in or notin after the key \"" + requirement.key + "\""};
}

bool LabelSelector::matches(const CachedObject& object) const {
  for (const auto& requirement : requirements_) {
    const std::string* value = object.label(requirement.key);
    const auto& values = requirement.values;
    const bool listed = value && std::binary_search(values.begin(), values.end(), *value);
    switch (requirement.op) {
      case Operator::kIn:
        if (!listed) return false;
        break;
      case Operator::kNotIn:
        if (listed) return false;
        break;
      case Operator::kExists:
        if (!value) return false;
        break;
      case Operator::kDoesNotExist:
        if (value) return false;
        break;
    }
  }
  return true;
}

LabelSelector::Allowed LabelSelector::allowedFor(std::string_view key) const {
  Allowed allowed;  // no requirement: absent or any value
  for (const auto& requirement : requirements_) {
    if (requirement.key != key) continue;
    Allowed term;
    term.absent = requirement.op == Operator::kNotIn || requirement.op == Operator::kDoesNotExist;
    term.allValuesExcept =
        requirement.op == Operator::kNotIn || requirement.op == Operator::kExists;
    term.values = requirement.values;
    // Intersect: a finite set stays finite; two exclusions exclude both.
    std::vector<std::string> values;
    if (allowed.allValuesExcept && term.allValuesExcept) {
      std::set_union(allowed.values.begin(), allowed.values.end(), term.values.begin(),
                     term.values.end(), std::back_inserter(values));
    } else if (!allowed.allValuesExcept && !term.allValuesExcept) {
      std::set_intersection(allowed.values.begin(), allowed.values.end(), term.values.begin(),
                            term.values.end(), std::back_inserter(values));
    } else {
      const auto& finite = allowed.allValuesExcept ? term.values : allowed.values;
      const auto& excluded = allowed.allValuesExcept ? allowed.values : term.values;
      std::set_difference(finite.begin(), finite.end(), excluded.begin(), excluded.end(),
                          std::back_inserter(values));
    }
    allowed.absent = allowed.absent && term.absent;
    allowed.allValuesExcept = allowed.allValuesExcept && term.allValuesExcept;
    allowed.values = std::move(values);
  }
  return allowed;
}

bool LabelSelector::subset(const Allowed& narrow, const Allowed& broad) {
  if (narrow.absent && !broad.absent) return false;
  const auto& n = narrow.values;
  const auto& b = broad.values;
  if (!narrow.allValuesExcept && !broad.allValuesExcept)
    return std::includes(b.begin(), b.end(), n.begin(), n.end());
  if (!narrow.allValuesExcept) {  // finite within "all but b": none of n is in b
    std::vector<std::string> common;
    std::set_intersection(n.begin(), n.end(), b.begin(), b.end(), std::back_inserter(common));
    return common.empty();
  }
  if (!broad.allValuesExcept) return false;  // infinitely many values within a finite set
  return std::includes(n.begin(), n.end(), b.begin(), b.end());  // excludes at least b's
}

bool LabelSelector::within(const LabelSelector& broader) const {
  // Requirements on different keys are independent, so comparing key by key is exact.
  for (const auto& requirement : requirements_) {
    const Allowed allowed = allowedFor(requirement.key);
    if (!allowed.absent && !allowed.allValuesExcept && allowed.values.empty())
      return true;  // this selector matches nothing
  }
  for (const auto& requirement : broader.requirements_) {
    if (!subset(allowedFor(requirement.key), broader.allowedFor(requirement.key))) return false;
  }
  return true;
}

std::string LabelSelector::toString() const {
  std::string out;
  for (const auto& requirement : requirements_) {
    if (!out.empty()) out += ',';
    const auto& values = requirement.values;
    switch (requirement.op) {
      case Operator::kExists:
        out += requirement.key;
        continue;
      case Operator::kDoesNotExist:
        out += "!" + requirement.key;
        continue;
      case Operator::kIn:
      case Operator::kNotIn:
        break;
    }
    const bool in = requirement.op == Operator::kIn;
    if (values.size() == 1) {
      out += requirement.key + (in ? "=" : "!=") + values.front();
      continue;
    }
    out += requirement.key + (in ? " in (" : " notin (");
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + values[i];
    out += ')';
  }
  return out;
}

Status checkLabelKey(std::string_view key) { return checkKey(key); }

bool isLabelValue(std::string_view value) { return checkValue(value).isOk(); }

}  // namespace wop::cache
