// A small HTTP/1.1 server for the metrics and health endpoints (controller-runtime's
// --metrics-bind-address and --health-probe-bind-address), on libmicrohttpd. It answers GET
// and HEAD from a fixed table of routes and nothing else: other methods get 405, other paths
// 404.
//
// Anyone who can reach the port may talk to it, so it is built to outlast slow and malformed
// clients: one internal thread multiplexes every connection with epoll (a client that sends
// half a request holds no thread), connections are capped in number, per client address and in
// memory, and an idle one is closed (HttpServerLimits, defaults in common/limits.h).
//
// Threading: handlers run on the server's one internal thread, one request at a time, so a
// handler should answer in milliseconds; it reads shared state under that state's own locks.
// An exception from a handler stops at the server (a 500, and one line on stderr); the server
// goes on serving. The thread inherits the signal mask of the thread that starts the server:
// start it after HostProcess has blocked SIGINT and SIGTERM.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/limits.h"
#include "common/status.h"
#include "server/bind_address.h"

struct MHD_Daemon;

namespace wop::server {

// A request as a handler sees it: only what a GET carries. Valid during the handler call.
struct HttpRequest {
  std::string method;  // "GET" or "HEAD" (the server answers a HEAD without the body)
  std::string path;    // percent-decoded, without the query: "/readyz/informers"
  // The query's parameters in order, percent-decoded; "?verbose" has the value "".
  std::vector<std::pair<std::string, std::string>> query;

  // True when the query names the parameter, with or without a value ("?verbose").
  bool hasQuery(std::string_view name) const;
  // Every value of the parameter, in order ("?exclude=a&exclude=b").
  std::vector<std::string> queryValues(std::string_view name) const;
};

struct HttpReply {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpReply(const HttpRequest&)>;

// Routes by path: a key is an exact path ("/metrics"), or, ending in '/', a prefix that takes
// every path below it ("/readyz/" takes "/readyz/informers"). An exact match wins, then the
// longest prefix.
using HttpRoutes = std::map<std::string, HttpHandler>;

struct HttpServerLimits {
  // Connections open at a time, in all and from one client address; one more is accepted and
  // closed at once. 0 per address: no cap but the total.
  unsigned connections = limits::kMaxHttpConnections;
  unsigned connectionsPerAddress = limits::kMaxHttpConnectionsPerAddress;
  // Memory of one connection: request line, headers and buffers. A request over it gets 414 or
  // 431 and the connection is closed.
  size_t connectionBytes = limits::kMaxHttpConnectionBytes;
  // A connection silent this long is closed (libmicrohttpd counts whole seconds; at least 1).
  std::chrono::seconds idleTimeout{limits::kHttpIdleTimeoutSeconds};
};

class HttpServer {
 public:
  // Listens on address (resolving a host name; an empty host is every interface, IPv6 and
  // IPv4) and serves routes until destroyed. The error names the address and the reason
  // ("address already in use"). Port 0 binds an ephemeral port: see port().
  static common::Result<std::unique_ptr<HttpServer>> start(const BindAddress& address,
                                                           HttpRoutes routes,
                                                           HttpServerLimits limits = {});
  // The same for a flag's text ("127.0.0.1:8080"; see bind_address.h). The caller checks
  // bindAddressDisabled first: "0" is refused here.
  static common::Result<std::unique_ptr<HttpServer>> start(std::string_view bindAddress,
                                                           HttpRoutes routes,
                                                           HttpServerLimits limits = {});

  // Stops listening, closes every connection and returns once no handler runs any more: a
  // request in flight finishes its handler first (its client may not get the reply). Safe to
  // call while clients are connected.
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port listened on (the kernel's pick when the address asked for port 0).
  uint16_t port() const { return port_; }

  // The reply of the route for request.path (404 when there is none), as the server sends it;
  // an error when the handler threw (the server answers 500). Never throws.
  static common::Result<HttpReply> dispatch(const HttpRoutes& routes,
                                            const HttpRequest& request) noexcept;

 private:
  struct DaemonStopper {
    void operator()(MHD_Daemon* daemon) const;
  };

  HttpServer(HttpRoutes routes, uint16_t port) : routes_(std::move(routes)), port_(port) {}

  const HttpRoutes routes_;  // read by the daemon's thread; outlives the daemon (declared first)
  uint16_t port_;
  std::unique_ptr<MHD_Daemon, DaemonStopper> daemon_;
};

}  // namespace wop::server
