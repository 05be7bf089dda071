#include "fetch/oci_reference.h"

#include <cctype>

#include "common/sha256.h"

namespace wop::fetch {

using common::Status;
using common::StatusCode;

namespace {

constexpr size_t kMaxReferenceBytes = 1024;

Status invalid(std::string_view text, const std::string& why) {
  return Status(StatusCode::kInvalidArgument,
                "image \"" + std::string(text.substr(0, 200)) + "\": " + why);
}

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// A repository path component: lower-case alphanumerics joined by single ., _, __ or -s.
bool isComponent(std::string_view part) {
  if (part.empty() || !isLowerAlnum(part.front()) || !isLowerAlnum(part.back())) return false;
  for (size_t i = 0; i < part.size(); ++i) {
    const char c = part[i];
    if (isLowerAlnum(c) || c == '-') continue;
    if (c == '.' || c == '_') {
      if (i + 1 < part.size() && part[i + 1] == '.') return false;
      if (c == '.' && i + 1 < part.size() && part[i + 1] == '_') return false;
      if (c == '_' && i + 2 < part.size() && part[i + 1] == '_' && part[i + 2] == '_') return false;
      continue;
    }
    return false;
  }
  return true;
}

bool isRegistry(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  const auto colon = host.find(':');
  const std::string_view name = host.substr(0, colon);
  if (name.empty() || name.front() == '-' || name.front() == '.' || name.back() == '.')
    return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  }
  if (colon == std::string_view::npos) return true;
  const std::string_view port = host.substr(colon + 1);
  if (port.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool isTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128) return false;
  for (size_t i = 0; i < tag.size(); ++i) {
    const char c = tag[i];
    const bool word = std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    if (!word && (i == 0 || (c != '.' && c != '-'))) return false;
  }
  return true;
}

}  // namespace

std::string OciReference::apiHost() const {
  return registry == "docker.io" ? "registry-1.docker.io" : registry;
}

std::string OciReference::toString() const {
  std::string out = registry + "/" + repository;
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string OciReference::pinnedTo(const std::string& manifestDigest) const {
  return registry + "/" + repository + "@" + manifestDigest;
}

common::Result<OciReference> parseOciReference(std::string_view text) {
  if (text.empty()) return invalid(text, "empty");
  if (text.size() > kMaxReferenceBytes) return invalid(text, "longer than 1024 characters");
  OciReference reference;
  std::string_view rest = text;
  if (const auto at = rest.find('@'); at != std::string_view::npos) {
    const std::string_view digest = rest.substr(at + 1);
    if (!digest.starts_with("sha256:") || !common::isSha256Hex(digest.substr(7))) {
      return invalid(text, "the digest must be sha256: and 64 lower-case hex digits");
    }
    reference.digest = std::string(digest);
    rest = rest.substr(0, at);
  }
  const auto slash = rest.find('/');
  const std::string_view first = rest.substr(0, slash);
  if (slash != std::string_view::npos &&
      (first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
       first == "localhost")) {
    if (!isRegistry(first))
      return invalid(text, "\"" + std::string(first) + "\" is not a host[:port]");
    reference.registry = std::string(first);
    rest = rest.substr(slash + 1);
  } else {
    reference.registry = "docker.io";
  }
  // A tag follows the last component's colon.
  const auto lastSlash = rest.rfind('/');
  const auto colon = rest.find(':', lastSlash == std::string_view::npos ? 0 : lastSlash);
  if (colon != std::string_view::npos) {
    const std::string_view tag = rest.substr(colon + 1);
    if (!isTag(tag))
      return invalid(text, "the tag must be 1-128 of [A-Za-z0-9_.-], not starting with . or -");
    reference.tag = std::string(tag);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return invalid(text, "no repository");
  size_t start = 0;
  while (true) {
    const auto end = rest.find('/', start);
    if (!isComponent(rest.substr(start, end == std::string_view::npos ? end : end - start))) {
      return invalid(text, "the repository must be lower-case components like org/name");
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  reference.repository = std::string(rest);
  if (reference.registry == "docker.io" && reference.repository.find('/') == std::string::npos) {
    reference.repository = "library/" + reference.repository;
  }
  if (reference.tag.empty() && reference.digest.empty()) reference.tag = "latest";
  return reference;
}

}  // namespace wop::fetch
