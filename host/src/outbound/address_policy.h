// Addresses no outbound request may reach, whatever allowedHosts lists (DESIGN.md principle
// 10: no confused deputy): the API server (its name, and each address it resolves to, at its
// port) and link-local and cloud metadata addresses. The check runs on the address each
// connection is about to use, after resolution, so a listed name that resolves (or is
// rebound) to one of them is refused too.
//
// Refused everywhere: 0.0.0.0/8, 169.254.0.0/16 (link-local, the metadata service of most
// clouds), 100.100.100.200 (Alibaba's), 224.0.0.0/3 (multicast, reserved, broadcast); ::,
// fe80::/10, ff00::/8 and fd00:ec2::254 (AWS's IPv6 metadata), and IPv4 addresses embedded in
// IPv6 (::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::a.b.c.d) by the IPv4 rules. Loopback and private
// ranges are not refused: an operator may talk to a sidecar or an internal service if its
// allowedHosts lists it.
//
// Thread-safety: immutable after construction.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "outbound/outbound_url.h"

namespace wop::outbound {

class AddressPolicy {
 public:
  struct Endpoint {
    std::array<uint8_t, 16> address;  // IPv6, or IPv4 as ::ffff:a.b.c.d
    uint16_t port;
  };

  AddressPolicy() = default;  // refuses only the fixed ranges
  AddressPolicy(std::vector<std::string> names, std::vector<Endpoint> endpoints)
      : names_(std::move(names)), endpoints_(std::move(endpoints)) {}

  // The policy for a host whose API server is server ("https://host:port"): its name and the
  // addresses it resolves to now (a blocking lookup: call at start) are refused at its port.
  static AddressPolicy forApiServer(const std::string& server);

  // Why url may not be requested before any lookup (it names the API server, or is an
  // address refused below), or nullopt.
  std::optional<std::string> refusal(const OutboundUrl& url) const;
  // Why connecting to address (AF_INET or AF_INET6) is refused, or nullopt.
  std::optional<std::string> refusal(const sockaddr* address, socklen_t length) const;
  // As above for an address in the Endpoint form.
  std::optional<std::string> refusal(const Endpoint& endpoint) const;

 private:
  std::vector<std::string> names_;
  std::vector<Endpoint> endpoints_;
};

}  // namespace wop::outbound
