// Where an operator may send HTTP requests: its spec.allowedHosts (like Spin's
// allowed_outbound_hosts). Nothing is allowed unless listed.
//
// Syntax of an entry: SCHEME://HOST[:PORT]
//   SCHEME  https (http only with the host's --outbound-allow-http flag, for tests)
//   HOST    a DNS name ("api.example.com"), "*." and a DNS name ("*.example.com": any name
//           with at least one more label in front, not example.com itself), an IPv4 literal
//           ("10.0.0.7") or an IPv6 literal in brackets ("[2001:db8::7]"); the rules of
//           outbound_url.h. No bare "*": an operator names the services it talks to.
//   PORT    1-65535 or "*" (any); default the scheme's (443, 80)
// Nothing else: no path, query, userinfo or trailing '/'. At most kMaxAllowedHosts entries.
// Listing a host does not make every address reachable: address_policy.h still refuses the
// API server and link-local/metadata addresses.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "outbound/outbound_url.h"

namespace wop::outbound {

inline constexpr size_t kMaxAllowedHosts = 64;
inline constexpr size_t kMaxAllowedHostBytes = 300;

struct AllowedHost {
  std::string scheme;
  std::string host;  // canonical; for a wildcard, the suffix after "*."
  HostKind hostKind = HostKind::kName;
  bool wildcard = false;
  std::optional<uint16_t> port;  // nullopt: any port

  bool matches(const OutboundUrl& url) const;
};

common::Result<AllowedHost> parseAllowedHost(std::string_view entry, bool allowHttp = false);

class AllowedHosts {
 public:
  AllowedHosts() = default;  // allows nothing
  // Errors name the entry by its position ("allowedHosts[2]: ...").
  static common::Result<AllowedHosts> parse(const std::vector<std::string>& entries,
                                            bool allowHttp = false);
  bool allows(const OutboundUrl& url) const;
  bool empty() const { return hosts_.empty(); }

 private:
  std::vector<AllowedHost> hosts_;
};

}  // namespace wop::outbound
