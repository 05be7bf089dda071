#include "outbound/outbound_url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "wop_abi.h"

namespace wop::outbound {
namespace {

using common::Status;
using common::StatusCode;

constexpr size_t kMaxNameBytes = 253;
constexpr size_t kMaxLabelBytes = 63;

Status invalid(std::string what) { return Status(StatusCode::kInvalidArgument, std::move(what)); }

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isHex(char c) { return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Four decimal parts of 0-255 without leading zeros: the only IPv4 form accepted.
bool isDottedQuad(std::string_view text) {
  int parts = 0;
  size_t i = 0;
  while (i <= text.size()) {
    size_t end = text.find('.', i);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view part = text.substr(i, end - i);
    if (part.empty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), isDigit)) {
      return false;
    }
    if (part.size() > 1 && part[0] == '0') return false;
    if (std::stoi(std::string(part)) > 255) return false;
    ++parts;
    i = end + 1;
    if (end == text.size()) break;
  }
  return parts == 4;
}

Status checkName(std::string_view name) {
  if (name.size() > kMaxNameBytes) return invalid("the host name is longer than 253 bytes");
  size_t start = 0;
  std::string_view last;
  while (true) {
    size_t end = name.find('.', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view label = name.substr(start, end - start);
    if (label.empty()) return invalid("the host name has an empty label");
    if (label.size() > kMaxLabelBytes) return invalid("a label of the host name is over 63 bytes");
    for (char c : label) {
      if (!(isDigit(c) || (c >= 'a' && c <= 'z') || c == '-')) {
        return invalid(
            "the host name may hold only a-z, 0-9, '-' and '.' (an international name in its "
            "xn-- form)");
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return invalid("a label of the host name starts or ends with '-'");
    }
    last = label;
    if (end == name.size()) break;
    start = end + 1;
  }
  // A resolver reads names ending in a number as IPv4 in one of its many forms (127.1,
  // 0x7f.0.0.1, 2130706433): only the dotted-quad form is accepted, as an address.
  if (isDigit(last.front())) {
    return invalid(
        "the host ends in a number but is not a dotted-decimal IPv4 address (a.b.c.d, no "
        "leading zeros)");
  }
  return Status::ok();
}

Status checkTarget(std::string_view target) {
  for (size_t i = 0; i < target.size(); ++i) {
    const char c = target[i];
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) {
      return invalid("the path or query holds a space, a control or a non-ASCII byte (escape it)");
    }
    if (c == '\\' || c == '"' || c == '#' || c == '<' || c == '>' || c == '`' || c == '{' ||
        c == '}' || c == '|' || c == '^') {
      return invalid(std::string("the path or query holds '") + c + "' (escape it)");
    }
    if (c == '%' && (i + 2 >= target.size() || !isHex(target[i + 1]) || !isHex(target[i + 2]))) {
      return invalid("the path or query holds a '%' that does not start a %XX escape");
    }
  }
  return Status::ok();
}

}  // namespace

common::Result<std::pair<std::string, HostKind>> parseHost(std::string_view host) {
  if (host.empty()) return invalid("the URL has no host");
  if (host.front() == '[') {
    if (host.back() != ']') return invalid("an IPv6 address must end with ']'");
    const std::string inside(host.substr(1, host.size() - 2));
    if (inside.find('%') != std::string::npos) return invalid("an IPv6 zone is not allowed");
    in6_addr address{};
    if (inside.size() > INET6_ADDRSTRLEN || inet_pton(AF_INET6, inside.c_str(), &address) != 1) {
      return invalid("the IPv6 address is malformed");
    }
    char canonical[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, &address, canonical, sizeof canonical);
    return std::pair<std::string, HostKind>{canonical, HostKind::kIpv6};
  }
  std::string lower(host);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  if (isDottedQuad(lower)) return std::pair<std::string, HostKind>{lower, HostKind::kIpv4};
  if (auto name = checkName(lower); !name.isOk()) return name;
  return std::pair<std::string, HostKind>{lower, HostKind::kName};
}

common::Result<OutboundUrl> parseOutboundUrl(std::string_view url, bool allowHttp) {
  if (url.size() > WOP_HTTP_MAX_URL_BYTES) {
    return Status(StatusCode::kResourceExhausted,
                  "the URL is longer than " + std::to_string(WOP_HTTP_MAX_URL_BYTES) + " bytes");
  }
  OutboundUrl parsed;
  if (url.starts_with("https://")) {
    parsed.scheme = "https";
    url.remove_prefix(8);
  } else if (allowHttp && url.starts_with("http://")) {
    parsed.scheme = "http";
    parsed.port = 80;
    url.remove_prefix(7);
  } else {
    return invalid(allowHttp ? "only https:// and http:// URLs are allowed (lower case)"
                             : "only https:// URLs are allowed (lower case)");
  }
  const size_t authorityEnd = url.find_first_of("/?#\\");
  const std::string_view authority = url.substr(0, authorityEnd);
  std::string_view rest =
      authorityEnd == std::string_view::npos ? std::string_view() : url.substr(authorityEnd);
  if (authority.find('@') != std::string_view::npos) {
    return invalid("credentials in the URL (user@host) are not allowed; send a header instead");
  }
  std::string_view hostPart = authority;
  std::string_view portPart;
  bool hasPort = false;
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return invalid("an IPv6 address must end with ']'");
    hostPart = authority.substr(0, close + 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid("unexpected text after the IPv6 address");
      portPart = after.substr(1);
      hasPort = true;
    }
  } else if (const size_t colon = authority.find(':'); colon != std::string_view::npos) {
    hostPart = authority.substr(0, colon);
    portPart = authority.substr(colon + 1);
    hasPort = true;
  }
  auto host = parseHost(hostPart);
  if (!host) return host.status();
  parsed.host = host->first;
  parsed.hostKind = host->second;
  if (hasPort) {
    if (portPart.empty() || portPart.size() > 5 ||
        !std::all_of(portPart.begin(), portPart.end(), isDigit)) {
      return invalid("the port must be a number from 1 to 65535");
    }
    const int port = std::stoi(std::string(portPart));
    if (port < 1 || port > 65535) return invalid("the port must be a number from 1 to 65535");
    parsed.port = static_cast<uint16_t>(port);
  }
  if (rest.find('#') != std::string_view::npos) return invalid("a URL fragment (#) is not sent");
  if (!rest.empty() && rest.front() == '?') {
    parsed.target = "/" + std::string(rest);
  } else if (rest.empty()) {
    parsed.target = "/";
  } else {
    parsed.target = std::string(rest);
  }
  if (auto target = checkTarget(parsed.target); !target.isOk()) return target;
  return parsed;
}

std::string OutboundUrl::authority() const {
  const std::string shown = hostKind == HostKind::kIpv6 ? "[" + host + "]" : host;
  return shown + ":" + std::to_string(port);
}

std::string OutboundUrl::text() const { return scheme + "://" + authority() + target; }

}  // namespace wop::outbound
