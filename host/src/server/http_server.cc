#include "server/http_server.h"

#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "common/error_boundary.h"

namespace wop::server {
namespace {

using common::Status;
using common::StatusCode;

// Connections the kernel queues before the server's thread accepts them.
constexpr int kListenBacklog = 128;

constexpr char kNotFoundBody[] = "404 page not found\n";
constexpr char kMethodNotAllowedBody[] = "method not allowed: only GET and HEAD\n";
constexpr char kInternalErrorBody[] = "internal server error\n";
constexpr char kTextPlain[] = "text/plain; charset=utf-8";

// A socket we own until it is handed to libmicrohttpd.
class OwnedSocket {
 public:
  explicit OwnedSocket(int fd) : fd_(fd) {}
  OwnedSocket(OwnedSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  OwnedSocket& operator=(OwnedSocket&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~OwnedSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Keeps the errno of the failed call in error, for a caller that tries another address.
Status socketError(const BindAddress& address, const char* what, int& error) {
  error = errno;
  return {StatusCode::kUnavailable,
          "listening on " + address.toString() + ": " + what + ": " + std::strerror(error)};
}

// A non-blocking socket bound to one address and listening. An IPv6 socket for every
// interface takes IPv4 too (dualStack), as Go's net.Listen(":8080") does.
common::Result<OwnedSocket> listenOn(const BindAddress& address, const sockaddr* socketAddress,
                                     socklen_t length, bool dualStack, int& error) {
  OwnedSocket socket(
      ::socket(socketAddress->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (socket.get() < 0) return socketError(address, "socket", error);
  const int on = 1;
  // A restarted host rebinds at once, not after TIME_WAIT.
  if (::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) {
    return socketError(address, "SO_REUSEADDR", error);
  }
  if (socketAddress->sa_family == AF_INET6) {
    const int v6Only = dualStack ? 0 : 1;
    if (::setsockopt(socket.get(), IPPROTO_IPV6, IPV6_V6ONLY, &v6Only, sizeof v6Only) != 0) {
      return socketError(address, "IPV6_V6ONLY", error);
    }
  }
  if (::bind(socket.get(), socketAddress, length) != 0) return socketError(address, "bind", error);
  if (::listen(socket.get(), kListenBacklog) != 0) return socketError(address, "listen", error);
  return socket;
}

// Every interface: IPv6 and IPv4 on one socket, or IPv4 alone where the kernel has no IPv6.
common::Result<OwnedSocket> listenOnEveryInterface(const BindAddress& address) {
  sockaddr_in6 any6{};
  any6.sin6_family = AF_INET6;
  any6.sin6_addr = in6addr_any;
  any6.sin6_port = htons(address.port);
  int error = 0;
  auto socket =
      listenOn(address, reinterpret_cast<const sockaddr*>(&any6), sizeof any6, true, error);
  if (socket || error != EAFNOSUPPORT) return socket;
  sockaddr_in any4{};
  any4.sin_family = AF_INET;
  any4.sin_addr.s_addr = htonl(INADDR_ANY);
  any4.sin_port = htons(address.port);
  return listenOn(address, reinterpret_cast<const sockaddr*>(&any4), sizeof any4, false, error);
}

struct AddrInfoFree {
  void operator()(addrinfo* info) const { ::freeaddrinfo(info); }
};

// A host name or address: the first of its addresses that binds.
common::Result<OwnedSocket> listenOnHost(const BindAddress& address) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  const int resolved = ::getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
  if (resolved != 0) {
    return Status(StatusCode::kUnavailable,
                  "listening on " + address.toString() +
                      ": cannot resolve the host: " + ::gai_strerror(resolved));
  }
  const std::unique_ptr<addrinfo, AddrInfoFree> addresses(found);
  common::Result<OwnedSocket> socket = Status(StatusCode::kUnavailable, "no address");
  int error = 0;
  for (const addrinfo* each = addresses.get(); each != nullptr; each = each->ai_next) {
    socket = listenOn(address, each->ai_addr, each->ai_addrlen, false, error);
    if (socket) break;
  }
  return socket;
}

uint16_t localPort(int fd) {
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0) return 0;
  if (bound.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
}

struct ResponseDestroy {
  void operator()(MHD_Response* response) const { MHD_destroy_response(response); }
};
using Response = std::unique_ptr<MHD_Response, ResponseDestroy>;

// Every reply says what it is and that browsers must not guess otherwise.
MHD_Result queue(MHD_Connection* connection, int status, MHD_Response* created,
                 const char* contentType) noexcept {
  const Response response(created);
  if (!response) return MHD_NO;  // out of memory: libmicrohttpd closes the connection
  if (MHD_add_response_header(response.get(), MHD_HTTP_HEADER_CONTENT_TYPE, contentType) !=
          MHD_YES ||
      MHD_add_response_header(response.get(), MHD_HTTP_HEADER_X_CONTENT_TYPE_OPTIONS, "nosniff") !=
          MHD_YES) {
    return MHD_NO;
  }
  if (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
      MHD_add_response_header(response.get(), MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES) {
    return MHD_NO;
  }
  return MHD_queue_response(connection, static_cast<unsigned>(status), response.get());
}

// A fixed reply from static text: needs no allocation of ours, so it works when nothing else
// does.
MHD_Result queueFixed(MHD_Connection* connection, int status, const char* body) noexcept {
  MHD_Response* response = MHD_create_response_from_buffer(
      std::strlen(body), const_cast<char*>(body), MHD_RESPMEM_PERSISTENT);
  return queue(connection, status, response, kTextPlain);
}

MHD_Result queueReply(MHD_Connection* connection, const HttpReply& reply) noexcept {
  MHD_Response* response = MHD_create_response_from_buffer(
      reply.body.size(), const_cast<char*>(reply.body.data()), MHD_RESPMEM_MUST_COPY);
  return queue(connection, reply.status, response, reply.contentType.c_str());
}

// Collects the query's parameters; libmicrohttpd calls it from C, so nothing may escape it.
MHD_Result collectQueryParameter(void* cls, MHD_ValueKind /*kind*/, const char* key,
                                 const char* value) noexcept {
  auto* query = static_cast<std::vector<std::pair<std::string, std::string>>*>(cls);
  const Status added = common::guard("reading the query", [&] {
    query->emplace_back(key != nullptr ? key : "", value != nullptr ? value : "");
  });
  return added.isOk() ? MHD_YES : MHD_NO;
}

common::Result<HttpRequest> readRequest(MHD_Connection* connection, const char* url,
                                        const char* method) {
  HttpRequest request;
  request.method = method;
  request.path = url;
  const int expected =
      MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND, nullptr, nullptr);
  const int collected = MHD_get_connection_values(connection, MHD_GET_ARGUMENT_KIND,
                                                  collectQueryParameter, &request.query);
  if (collected != expected || request.query.size() != static_cast<size_t>(expected)) {
    return Status(StatusCode::kResourceExhausted, "out of memory reading the query");
  }
  return request;
}

// libmicrohttpd's access handler: called once the request line and headers are in. A GET or
// HEAD is answered at once; anything else gets 405 before its body is read (the connection is
// then closed).
MHD_Result answer(void* cls, MHD_Connection* connection, const char* url, const char* method,
                  const char* /*version*/, const char* /*uploadData*/, size_t* /*uploadDataSize*/,
                  void** /*requestState*/) noexcept {
  const auto& routes = *static_cast<const HttpRoutes*>(cls);
  if (std::strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
      std::strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
    return queueFixed(connection, MHD_HTTP_METHOD_NOT_ALLOWED, kMethodNotAllowedBody);
  }
  const common::Result<HttpRequest> request = common::guard(
      "reading an HTTP request", [&] { return readRequest(connection, url, method); });
  if (!request) {
    common::logToStderr(request.status(), "HTTP server");
    return queueFixed(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, kInternalErrorBody);
  }
  const common::Result<HttpReply> reply = HttpServer::dispatch(routes, *request);
  if (!reply) {
    common::logToStderr(reply.status(), "HTTP server");
    return queueFixed(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, kInternalErrorBody);
  }
  return queueReply(connection, *reply);
}

// The route for path: the exact one, else the longest prefix route ("/readyz/") it starts with.
const HttpRoutes::value_type* findRoute(const HttpRoutes& routes, const std::string& path) {
  if (auto exact = routes.find(path); exact != routes.end()) return &*exact;
  const HttpRoutes::value_type* best = nullptr;
  for (const auto& route : routes) {
    const std::string& key = route.first;
    if (!key.empty() && key.back() == '/' && path.starts_with(key) &&
        (best == nullptr || key.size() > best->first.size())) {
      best = &route;
    }
  }
  return best;
}

}  // namespace

bool HttpRequest::hasQuery(std::string_view name) const {
  return std::any_of(query.begin(), query.end(),
                     [&](const auto& parameter) { return parameter.first == name; });
}

std::vector<std::string> HttpRequest::queryValues(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : query) {
    if (key == name) values.push_back(value);
  }
  return values;
}

void HttpServer::DaemonStopper::operator()(MHD_Daemon* daemon) const { MHD_stop_daemon(daemon); }

common::Result<HttpReply> HttpServer::dispatch(const HttpRoutes& routes,
                                               const HttpRequest& request) noexcept {
  const HttpRoutes::value_type* route = findRoute(routes, request.path);
  if (route == nullptr) {
    return common::guard("answering 404", []() -> common::Result<HttpReply> {
      return HttpReply{404, kTextPlain, kNotFoundBody};
    });
  }
  return common::guard(route->first,
                       [&]() -> common::Result<HttpReply> { return route->second(request); });
}

common::Result<std::unique_ptr<HttpServer>> HttpServer::start(std::string_view bindAddress,
                                                              HttpRoutes routes,
                                                              HttpServerLimits limits) {
  common::Result<BindAddress> address = parseBindAddress(bindAddress);
  if (!address) return address.status();
  return start(*address, std::move(routes), limits);
}

common::Result<std::unique_ptr<HttpServer>> HttpServer::start(const BindAddress& address,
                                                              HttpRoutes routes,
                                                              HttpServerLimits limits) {
  common::Result<OwnedSocket> socket =
      address.host.empty() ? listenOnEveryInterface(address) : listenOnHost(address);
  if (!socket) return socket.status();
  const uint16_t port = localPort(socket->get());
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(routes), port));
  const auto idleSeconds = static_cast<unsigned>(std::max<int64_t>(1, limits.idleTimeout.count()));
  // From here libmicrohttpd owns the socket: MHD_stop_daemon closes it. If the start fails we
  // cannot tell whether it was closed, so it is left alone (at worst one descriptor leaks, once).
  MHD_Daemon* daemon = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC, 0, nullptr, nullptr, &answer,
      const_cast<HttpRoutes*>(&server->routes_), MHD_OPTION_LISTEN_SOCKET,
      static_cast<MHD_socket>(socket->release()), MHD_OPTION_CONNECTION_LIMIT, limits.connections,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, limits.connectionsPerAddress,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, limits.connectionBytes, MHD_OPTION_CONNECTION_TIMEOUT,
      idleSeconds, MHD_OPTION_END);
  if (daemon == nullptr) {
    return Status(StatusCode::kInternal,
                  "listening on " + address.toString() + ": libmicrohttpd did not start");
  }
  server->daemon_.reset(daemon);
  return server;
}

HttpServer::~HttpServer() = default;

}  // namespace wop::server
