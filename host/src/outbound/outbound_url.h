// The URL of a guest's outbound HTTP request (wop_http_call), parsed strictly before anything
// else sees it: no URL parser of curl's, the resolver's or a server's may read it differently
// from this one (DESIGN.md principle 10).
//
// Accepted: https://HOST[:PORT][/PATH][?QUERY], at most WOP_HTTP_MAX_URL_BYTES, where HOST is
//   - a DNS name: dot-separated labels of [a-z0-9-] (upper case is lowered), each 1-63 long,
//     not starting or ending with '-', 253 at most, a final label that is not all digits and
//     does not start with a digit (so "127.1", "0x7f.1" and "2130706433" are never names that
//     a resolver would read as IPv4); an IDN must be given in its A-label form ("xn--...");
//   - an IPv4 literal in dotted-decimal form, four parts, no leading zeros ("127.0.0.1");
//   - an IPv6 literal in brackets, without a zone ("[2001:db8::1]").
// PORT is 1-65535 (default 443). PATH and QUERY are printable ASCII without spaces, '\', '#'
// or '"'; every '%' starts a %XX escape. Refused: other schemes, userinfo ('@'), fragments.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wop::outbound {

enum class HostKind { kName, kIpv4, kIpv6 };

struct OutboundUrl {
  std::string scheme;  // "https" (or "http" when the host allows it for tests)
  std::string host;    // canonical: lower-case name, dotted IPv4, or IPv6 without brackets
  HostKind hostKind = HostKind::kName;
  uint16_t port = 443;
  std::string target;  // path and query, "/" at least

  // The URL rebuilt from its checked parts: what the transport is given.
  std::string text() const;
  // "host:port" (IPv6 in brackets), for messages.
  std::string authority() const;
};

// allowHttp: also accept http:// (port 80 by default); off unless the host's flag says so.
common::Result<OutboundUrl> parseOutboundUrl(std::string_view url, bool allowHttp = false);

// The host part alone (a name or an IP literal as above, IPv6 without brackets), lower-cased;
// shared with the allow-list syntax. Fails with a message saying what is wrong.
common::Result<std::pair<std::string, HostKind>> parseHost(std::string_view host);

}  // namespace wop::outbound
