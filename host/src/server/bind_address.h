// Where an HTTP endpoint listens, written as controller-runtime's --metrics-bind-address and
// --health-probe-bind-address are: "HOST:PORT", where HOST may be empty (every interface), an
// IPv4 address, a host name or an IPv6 address in brackets, and "0" turns the endpoint off.
//
//   ":8080"            every interface (IPv6 and IPv4 where the host has both), port 8080
//   "127.0.0.1:8080"   loopback only
//   "[::1]:8081"       IPv6 loopback
//   "127.0.0.1:0"      an ephemeral port the kernel picks (tests)
//   "0"                disabled
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wop::server {

struct BindAddress {
  std::string host;  // without brackets; empty: every interface
  uint16_t port = 0;

  // "HOST:PORT", with brackets around an IPv6 host, ":PORT" for every interface.
  std::string toString() const;
};

// True for "0", controller-runtime's way of turning an endpoint off. Check this before
// parseBindAddress, which refuses "0".
bool bindAddressDisabled(std::string_view text);

// Parses text; an error names text and says what is wrong with it. Does not resolve the host.
common::Result<BindAddress> parseBindAddress(std::string_view text);

}  // namespace wop::server
