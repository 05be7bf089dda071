#include "server/bind_address.h"

#include <arpa/inet.h>

#include <cctype>

#include "common/log_text.h"

namespace wop::server {
namespace {

// A DNS name is at most 253 bytes; an IPv6 address with a zone a few dozen.
constexpr size_t kMaxHostBytes = 253;
constexpr size_t kMaxPortDigits = 5;

common::Status bad(std::string_view text, std::string_view reason) {
  return {common::StatusCode::kInvalidArgument, "bind address \"" + common::escapeLogText(text) +
                                                    "\": " + std::string(reason) +
                                                    " (want HOST:PORT, e.g. :8080 or "
                                                    "127.0.0.1:8080, or 0 to disable)"};
}

bool isIpv6(std::string_view host) {
  // A zone ("fe80::1%eth0") is for the kernel to check; the address before it must parse.
  const std::string address(host.substr(0, host.find('%')));
  in6_addr parsed{};
  return inet_pton(AF_INET6, address.c_str(), &parsed) == 1;
}

bool isHostNameOrIpv4(std::string_view host) {
  for (const char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string BindAddress::toString() const {
  const std::string portText = std::to_string(port);
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + portText;
  return host + ":" + portText;
}

bool bindAddressDisabled(std::string_view text) { return text == "0"; }

common::Result<BindAddress> parseBindAddress(std::string_view text) {
  if (bindAddressDisabled(text)) return bad(text, "0 turns the endpoint off; it has no address");
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return bad(text, "missing ']' after the IPv6 address");
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':') {
      return bad(text, "missing ':PORT' after ']'");
    }
    port = text.substr(close + 2);
    if (!isIpv6(host)) return bad(text, "not an IPv6 address between the brackets");
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad(text, "missing ':PORT'");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return bad(text, "too many colons: put an IPv6 address in brackets, e.g. [::1]:8080");
    }
    if (!isHostNameOrIpv4(host)) return bad(text, "the host is not a name or an address");
  }
  if (host.size() > kMaxHostBytes) return bad(text, "the host is too long");
  if (port.empty()) return bad(text, "missing port after ':'");
  unsigned value = 0;
  for (const char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c)) || port.size() > kMaxPortDigits) {
      return bad(text, "the port is not a number from 0 to 65535");
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > UINT16_MAX) return bad(text, "the port is not a number from 0 to 65535");
  return BindAddress{std::string(host), static_cast<uint16_t>(value)};
}

}  // namespace wop::server
