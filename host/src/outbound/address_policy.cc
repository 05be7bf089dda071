#include "outbound/address_policy.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>
#include <memory>

namespace wop::outbound {
namespace {

using Bytes = std::array<uint8_t, 16>;

Bytes mapped(const uint8_t v4[4]) {
  Bytes bytes{};
  bytes[10] = 0xff;
  bytes[11] = 0xff;
  std::memcpy(bytes.data() + 12, v4, 4);
  return bytes;
}

bool startsWith(const Bytes& bytes, std::initializer_list<uint8_t> prefix) {
  size_t i = 0;
  for (uint8_t b : prefix) {
    if (bytes[i++] != b) return false;
  }
  return true;
}

// The IPv4 address an IPv6 address carries, if it is one of the embedding forms.
std::optional<std::array<uint8_t, 4>> embeddedV4(const Bytes& bytes) {
  const bool mappedForm = startsWith(bytes, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff});
  const bool compatForm = startsWith(bytes, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) &&
                          !(bytes[12] == 0 && bytes[13] == 0 && bytes[14] == 0 && bytes[15] <= 1);
  const bool nat64Form = startsWith(bytes, {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0});
  if (!mappedForm && !compatForm && !nat64Form) return std::nullopt;
  return std::array<uint8_t, 4>{bytes[12], bytes[13], bytes[14], bytes[15]};
}

std::optional<std::string> refusedV4(const std::array<uint8_t, 4>& a) {
  if (a[0] == 0) return "0.0.0.0/8 (this network)";
  if (a[0] == 169 && a[1] == 254) return "169.254.0.0/16 (link-local, cloud metadata)";
  if (a[0] == 100 && a[1] == 100 && a[2] == 100 && a[3] == 200) return "a cloud metadata address";
  if (a[0] >= 224) return "multicast, reserved or broadcast";
  return std::nullopt;
}

std::optional<std::string> refusedV6(const Bytes& b) {
  if (auto v4 = embeddedV4(b)) return refusedV4(*v4);
  if (b == Bytes{}) return "the unspecified address ::";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "fe80::/10 (link-local)";
  if (b[0] == 0xff) return "multicast";
  const Bytes awsMetadata{0xfd, 0, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
  if (b == awsMetadata) return "a cloud metadata address";
  return std::nullopt;
}

// Either family as the mapped IPv6 form, for comparing with endpoints.
Bytes normalized(const Bytes& b) {
  if (auto v4 = embeddedV4(b)) return mapped(v4->data());
  return b;
}

std::optional<AddressPolicy::Endpoint> endpointOf(const sockaddr* address, socklen_t length) {
  if (address == nullptr) return std::nullopt;
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in in{};
    std::memcpy(&in, address, sizeof in);
    uint8_t v4[4];
    std::memcpy(v4, &in.sin_addr, 4);
    return AddressPolicy::Endpoint{mapped(v4), ntohs(in.sin_port)};
  }
  if (address->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, address, sizeof in6);
    Bytes bytes;
    std::memcpy(bytes.data(), &in6.sin6_addr, 16);
    return AddressPolicy::Endpoint{bytes, ntohs(in6.sin6_port)};
  }
  return std::nullopt;
}

}  // namespace

AddressPolicy AddressPolicy::forApiServer(const std::string& server) {
  auto url = parseOutboundUrl(server, /*allowHttp=*/true);
  if (!url) return AddressPolicy();
  std::vector<Endpoint> endpoints;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(url->host.c_str(), nullptr, &hints, &found) == 0) {
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> list(found, freeaddrinfo);
    for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
      if (auto endpoint = endpointOf(a->ai_addr, a->ai_addrlen)) {
        endpoints.push_back({normalized(endpoint->address), url->port});
      }
    }
  }
  return AddressPolicy({url->host + ":" + std::to_string(url->port)}, std::move(endpoints));
}

std::optional<std::string> AddressPolicy::refusal(const Endpoint& endpoint) const {
  if (auto why = refusedV6(endpoint.address)) return why;
  const Bytes address = normalized(endpoint.address);
  for (const auto& apiServer : endpoints_) {
    if (apiServer.address == address && apiServer.port == endpoint.port) {
      return std::string("the API server's address (use wop_api_call for the API server)");
    }
  }
  return std::nullopt;
}

std::optional<std::string> AddressPolicy::refusal(const sockaddr* address, socklen_t length) const {
  auto endpoint = endpointOf(address, length);
  if (!endpoint) return std::string("not an IPv4 or IPv6 address");
  return refusal(*endpoint);
}

std::optional<std::string> AddressPolicy::refusal(const OutboundUrl& url) const {
  for (const auto& name : names_) {
    if (name == url.host + ":" + std::to_string(url.port)) {
      return std::string("the API server (use wop_api_call for the API server)");
    }
  }
  if (url.hostKind == HostKind::kName) return std::nullopt;
  Bytes bytes{};
  if (url.hostKind == HostKind::kIpv4) {
    uint8_t v4[4];
    if (inet_pton(AF_INET, url.host.c_str(), v4) != 1) return std::string("a malformed address");
    bytes = mapped(v4);
  } else if (inet_pton(AF_INET6, url.host.c_str(), bytes.data()) != 1) {
    return std::string("a malformed address");
  }
  return refusal(Endpoint{bytes, url.port});
}

}  // namespace wop::outbound
