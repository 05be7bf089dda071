#include "kube/api_names.h"

#include <string>

#include "common/limits.h"
#include "common/utf8.h"

namespace wop::kube {
namespace {

using common::Status;
using common::StatusCode;

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool isLabel(std::string_view text, bool startsWithLetter) {
  if (text.empty() || text.size() > limits::kMaxDnsLabelBytes) return false;
  if (!isLowerAlnum(text.front()) || !isLowerAlnum(text.back())) return false;
  if (startsWithLetter && !(text.front() >= 'a' && text.front() <= 'z')) return false;
  for (char c : text) {
    if (!isLowerAlnum(c) && c != '-') return false;
  }
  return true;
}

bool hasControlOrSpace(std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return true;
  }
  return false;
}

bool hasControl(std::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return true;
  }
  return false;
}

Status invalid(std::string_view field, const std::string& what) {
  return Status(StatusCode::kInvalidArgument, std::string(field) + " " + what);
}

// Quoted for a message: bounded and printable whatever the input (log lines, JSON).
std::string quoted(std::string_view text) {
  constexpr size_t kShown = 64;
  std::string shown = common::toValidUtf8(text.substr(0, kShown));
  for (char& c : shown) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = '?';
  }
  return "\"" + shown + (text.size() > kShown ? "...\"" : "\"");
}

}  // namespace

bool isDns1123Label(std::string_view text) { return isLabel(text, false); }

bool isDns1035Label(std::string_view text) { return isLabel(text, true); }

bool isDns1123Subdomain(std::string_view text) {
  if (text.empty() || text.size() > limits::kMaxDnsSubdomainBytes) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = text.find('.', start);
    const auto label = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (!isDns1123Label(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

Status checkApiVersion(std::string_view apiVersion) {
  const size_t slash = apiVersion.find('/');
  const auto group =
      slash == std::string_view::npos ? std::string_view() : apiVersion.substr(0, slash);
  const auto version = slash == std::string_view::npos ? apiVersion : apiVersion.substr(slash + 1);
  if (slash != std::string_view::npos && !isDns1123Subdomain(group)) {
    return invalid("apiVersion", quoted(apiVersion) +
                                     ": the group must be a DNS-1123 subdomain (lower case "
                                     "letters, digits, '-' and '.', at most 253 bytes)");
  }
  if (!isDns1035Label(version)) {
    return invalid("apiVersion", quoted(apiVersion) +
                                     ": the version must be a DNS-1035 label such as v1 or "
                                     "v1beta1 (and the whole \"<group>/<version>\" or \"v1\")");
  }
  return Status::ok();
}

Status checkKind(std::string_view kind) {
  bool valid = !kind.empty() && kind.size() <= limits::kMaxKindBytes &&
               ((kind[0] >= 'A' && kind[0] <= 'Z') || (kind[0] >= 'a' && kind[0] <= 'z'));
  for (char c : kind) {
    if (!valid) break;
    valid = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }
  if (!valid) {
    return invalid("kind", quoted(kind) +
                               " must be letters and digits, starting with a letter, "
                               "at most 63 bytes");
  }
  return Status::ok();
}

Status checkNamespace(std::string_view ns) {
  if (ns.empty() || isDns1123Label(ns)) return Status::ok();
  return invalid("namespace", quoted(ns) +
                                  " must be a DNS-1123 label (lower case letters, digits and "
                                  "'-', at most 63 bytes)");
}

Status checkObjectName(std::string_view name) {
  if (name.empty()) return invalid("name", "must not be empty");
  if (name == "." || name == "..") return invalid("name", quoted(name) + " is not allowed");
  if (name.size() > limits::kMaxDnsSubdomainBytes)
    return invalid("name", "is longer than 253 bytes");
  if (name.find('/') != std::string_view::npos || name.find('%') != std::string_view::npos)
    return invalid("name", quoted(name) + " may not contain '/' or '%'");
  if (hasControlOrSpace(name) || !common::isValidUtf8(name))
    return invalid("name", quoted(name) +
                               " may not contain spaces, control characters or "
                               "invalid UTF-8");
  return Status::ok();
}

Status checkLabelSelector(std::string_view selector) {
  if (selector.size() > limits::kMaxLabelSelectorBytes)
    return invalid("labelSelector",
                   "is longer than " + std::to_string(limits::kMaxLabelSelectorBytes) + " bytes");
  if (hasControl(selector) || !common::isValidUtf8(selector))
    return invalid("labelSelector", "may not contain control characters or invalid UTF-8");
  return Status::ok();
}

Status checkResourceVersion(std::string_view resourceVersion) {
  if (resourceVersion.size() > limits::kMaxResourceVersionBytes)
    return invalid("resourceVersion",
                   "is longer than " + std::to_string(limits::kMaxResourceVersionBytes) + " bytes");
  for (char c : resourceVersion) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f)
      return invalid("resourceVersion", "must be printable ASCII without spaces");
  }
  return Status::ok();
}

Status checkFieldManager(std::string_view fieldManager) {
  if (fieldManager.size() > limits::kMaxFieldManagerBytes)
    return invalid("fieldManager",
                   "is longer than " + std::to_string(limits::kMaxFieldManagerBytes) + " bytes");
  if (hasControl(fieldManager) || !common::isValidUtf8(fieldManager))
    return invalid("fieldManager", "may not contain control characters or invalid UTF-8");
  return Status::ok();
}

}  // namespace wop::kube
