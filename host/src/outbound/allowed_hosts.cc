#include "outbound/allowed_hosts.h"

#include <algorithm>

namespace wop::outbound {
namespace {

using common::Status;
using common::StatusCode;

Status invalid(std::string what) { return Status(StatusCode::kInvalidArgument, std::move(what)); }

}  // namespace

common::Result<AllowedHost> parseAllowedHost(std::string_view entry, bool allowHttp) {
  if (entry.size() > kMaxAllowedHostBytes) {
    return invalid("longer than " + std::to_string(kMaxAllowedHostBytes) + " bytes");
  }
  AllowedHost allowed;
  const size_t schemeEnd = entry.find("://");
  if (schemeEnd == std::string_view::npos) {
    return invalid("must be SCHEME://HOST[:PORT], e.g. https://api.example.com");
  }
  allowed.scheme = std::string(entry.substr(0, schemeEnd));
  if (allowed.scheme != "https" && !(allowHttp && allowed.scheme == "http")) {
    return invalid(allowHttp ? "the scheme must be https or http" : "the scheme must be https");
  }
  std::string_view rest = entry.substr(schemeEnd + 3);
  if (rest.find_first_of("/?#@\\") != std::string_view::npos) {
    return invalid("must be SCHEME://HOST[:PORT]: no path, query, user or trailing '/'");
  }
  std::string_view host = rest;
  std::string_view port;
  bool hasPort = false;
  const size_t close = rest.rfind(']');
  const size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close)) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    hasPort = true;
  }
  if (host.starts_with("*.")) {
    allowed.wildcard = true;
    host.remove_prefix(2);
  } else if (host.find('*') != std::string_view::npos) {
    return invalid("'*' may only stand first, as '*.example.com'");
  }
  auto parsedHost = parseHost(host);
  if (!parsedHost) return parsedHost.status();
  allowed.host = parsedHost->first;
  allowed.hostKind = parsedHost->second;
  if (allowed.wildcard && allowed.hostKind != HostKind::kName) {
    return invalid("'*.' must be followed by a DNS name, not an address");
  }
  if (!hasPort) {
    allowed.port = allowed.scheme == "https" ? 443 : 80;
  } else if (port != "*") {
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return invalid("the port must be a number from 1 to 65535, or *");
    }
    const int number = std::stoi(std::string(port));
    if (number < 1 || number > 65535) return invalid("the port must be from 1 to 65535, or *");
    allowed.port = static_cast<uint16_t>(number);
  }
  return allowed;
}

bool AllowedHost::matches(const OutboundUrl& url) const {
  if (url.scheme != scheme) return false;
  if (port && *port != url.port) return false;
  if (!wildcard) return url.hostKind == hostKind && url.host == host;
  if (url.hostKind != HostKind::kName) return false;
  return url.host.size() > host.size() + 1 && url.host.ends_with(host) &&
         url.host[url.host.size() - host.size() - 1] == '.';
}

common::Result<AllowedHosts> AllowedHosts::parse(const std::vector<std::string>& entries,
                                                 bool allowHttp) {
  if (entries.size() > kMaxAllowedHosts) {
    return invalid("allowedHosts has more than " + std::to_string(kMaxAllowedHosts) + " entries");
  }
  AllowedHosts result;
  for (size_t i = 0; i < entries.size(); ++i) {
    auto host = parseAllowedHost(entries[i], allowHttp);
    if (!host) {
      return invalid("allowedHosts[" + std::to_string(i) + "]: " + host.status().message());
    }
    result.hosts_.push_back(std::move(*host));
  }
  return result;
}

bool AllowedHosts::allows(const OutboundUrl& url) const {
  return std::any_of(hosts_.begin(), hosts_.end(),
                     [&](const AllowedHost& host) { return host.matches(url); });
}

}  // namespace wop::outbound
