#include "runtime/key_mapping.h"

#include <algorithm>

namespace wop::runtime {

using common::Status;
using common::StatusCode;

namespace {

constexpr size_t kMaxNamespaceBytes = 63;  // a DNS-1123 label

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool isDnsLabel(std::string_view text) {
  if (text.empty() || text.size() > kMaxNamespaceBytes) return false;
  if (!isLowerAlnum(text.front()) || !isLowerAlnum(text.back())) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return isLowerAlnum(c) || c == '-'; });
}

bool hasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

Status invalid(std::string why) {
  return Status(StatusCode::kInvalidArgument, "invalid key: " + std::move(why));
}

}  // namespace

common::Result<ObjectKey> parseKey(std::string_view key) {
  if (key.empty()) return invalid("empty");
  if (key.size() > limits::kMaxKeyBytes) {
    return invalid(std::to_string(key.size()) + " bytes, limit " +
                   std::to_string(limits::kMaxKeyBytes));
  }
  if (hasControlCharacter(key)) return invalid("control character");
  ObjectKey parsed;
  std::string_view name = key;
  if (const size_t slash = key.find('/'); slash != std::string_view::npos) {
    const std::string_view ns = key.substr(0, slash);
    if (!isDnsLabel(ns)) return invalid("namespace is not a DNS label (lowercase, at most 63)");
    parsed.ns = ns;
    name = key.substr(slash + 1);
  }
  if (name.empty()) return invalid("empty name");
  if (name.find('/') != std::string_view::npos) return invalid("more than one '/'");
  if (name == "." || name == "..") return invalid("name is \".\" or \"..\"");
  parsed.name = name;
  return parsed;
}

std::optional<std::string> mapToKey(const KeyMapping& mapping, const cache::CachedObject& object) {
  if (mapping.kind == KeyMapping::Kind::kSelf) return object.key();
  for (const cache::OwnerReference& owner : object.owners) {
    if (!owner.controller || owner.name.empty()) continue;
    if (!mapping.ownerKind.empty() && owner.kind != mapping.ownerKind) continue;
    if (mapping.ownerClusterScoped || object.ns.empty()) return owner.name;
    return object.ns + "/" + owner.name;
  }
  return std::nullopt;
}

}  // namespace wop::runtime
