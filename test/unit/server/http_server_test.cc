#include "server/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "server/raw_http_client.h"

namespace wop::server {
namespace {

using namespace std::chrono_literals;
using rawhttp::get;
using rawhttp::RawConnection;
using rawhttp::sendRequest;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kRequestEnd[] = " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";

HttpHandler replyWith(std::string body) {
  return [body](const HttpRequest&) { return HttpReply{200, "text/plain; charset=utf-8", body}; };
}

// A server on an ephemeral loopback port; the test fails at once if it cannot start.
std::unique_ptr<HttpServer> startServer(HttpRoutes routes, HttpServerLimits limits = {}) {
  auto server = HttpServer::start("127.0.0.1:0", std::move(routes), limits);
  EXPECT_TRUE(server) << server.status().toString();
  if (!server) return nullptr;
  EXPECT_NE((*server)->port(), 0);
  return std::move(server).value();
}

// Repeats a GET until it is answered 200 or a second passes: the server notices closed
// connections on its own thread, a moment after the client closed them.
int statusOnceServed(uint16_t port, const std::string& target) {
  const auto deadline = std::chrono::steady_clock::now() + 1s;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    status = get(port, target).status;
    if (status == 200) break;
    std::this_thread::sleep_for(10ms);
  }
  return status;
}

TEST(HttpServer, AnswersAGetWithTheHandlersBodyAndContentType) {
  auto server = startServer({{"/metrics", [](const HttpRequest&) {
                                return HttpReply{200, "text/plain; version=0.0.4", "up 1\n"};
                              }}});
  ASSERT_TRUE(server);
  const auto reply = get(server->port(), "/metrics");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "up 1\n");
  EXPECT_EQ(reply.header("Content-Type"), "text/plain; version=0.0.4");
  EXPECT_EQ(reply.header("X-Content-Type-Options"), "nosniff");
}

TEST(HttpServer, GivesTheHandlerTheDecodedPathAndQuery) {
  std::mutex mutex;  // the handler runs on the server's thread
  HttpRequest seen;
  auto server = startServer({{"/a b", [&](const HttpRequest& request) {
                                const std::lock_guard lock(mutex);
                                seen = request;
                                return HttpReply{};
                              }}});
  ASSERT_TRUE(server);
  EXPECT_EQ(get(server->port(), "/a%20b?verbose&exclude=x&exclude=y%2Fz").status, 200);
  const std::lock_guard lock(mutex);
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.path, "/a b");
  EXPECT_TRUE(seen.hasQuery("verbose"));
  EXPECT_FALSE(seen.hasQuery("quiet"));
  EXPECT_EQ(seen.queryValues("exclude"), (std::vector<std::string>{"x", "y/z"}));
}

TEST(HttpServer, RoutesExactPathsFirstThenTheLongestPrefix) {
  auto server = startServer({{"/readyz", replyWith("exact")},
                             {"/readyz/", replyWith("prefix")},
                             {"/readyz/deep/", replyWith("deeper")}});
  ASSERT_TRUE(server);
  EXPECT_EQ(get(server->port(), "/readyz").body, "exact");
  EXPECT_EQ(get(server->port(), "/readyz/informers").body, "prefix");
  EXPECT_EQ(get(server->port(), "/readyz/deep/x").body, "deeper");
  EXPECT_EQ(get(server->port(), "/readyzz").status, 404);
}

TEST(HttpServer, AnswersAnUnknownPathWith404) {
  auto server = startServer({{"/metrics", replyWith("m")}});
  ASSERT_TRUE(server);
  const auto reply = get(server->port(), "/nothing/here");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.body, "404 page not found\n");
}

TEST(HttpServer, RefusesMethodsOtherThanGetAndHeadWith405) {
  std::atomic<int> calls{0};
  auto server = startServer({{"/metrics", [&](const HttpRequest&) {
                                ++calls;
                                return HttpReply{};
                              }}});
  ASSERT_TRUE(server);
  const auto post = sendRequest(server->port(),
                                "POST /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
                                "Content-Length: 5\r\n\r\nhello");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("Allow"), "GET, HEAD");
  EXPECT_EQ(get(server->port(), "/metrics", "DELETE").status, 405);
  EXPECT_EQ(calls.load(), 0);
}

TEST(HttpServer, AnswersHeadWithoutTheBody) {
  auto server = startServer({{"/metrics", replyWith("a body")}});
  ASSERT_TRUE(server);
  const auto reply = get(server->port(), "/metrics", "HEAD");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "");
}

TEST(HttpServer, AnswersAThrowingHandlerWith500AndGoesOnServing) {
  auto server = startServer(
      {{"/boom",
        [](const HttpRequest&) -> HttpReply { throw std::runtime_error("handler broke"); }},
       {"/fine", replyWith("fine")}});
  ASSERT_TRUE(server);
  const auto broken = get(server->port(), "/boom");
  EXPECT_EQ(broken.status, 500);
  EXPECT_EQ(broken.body, "internal server error\n");  // the reason goes to the log, not out
  EXPECT_EQ(get(server->port(), "/fine").body, "fine");
}

TEST(HttpServer, ServesOthersWhileASlowClientSendsHalfARequest) {
  auto server = startServer({{"/healthz", replyWith("ok")}});
  ASSERT_TRUE(server);
  RawConnection slowloris(server->port());
  ASSERT_TRUE(slowloris.connected());
  ASSERT_TRUE(slowloris.send("GET /heal"));  // and never another byte

  const auto start = std::chrono::steady_clock::now();
  const auto reply = get(server->port(), "/healthz");
  EXPECT_EQ(reply.status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
}

TEST(HttpServer, RefusesAMalformedRequestLineAndGoesOnServing) {
  auto server = startServer({{"/healthz", replyWith("ok")}});
  ASSERT_TRUE(server);
  for (const char* garbage : {"GARBAGE\r\n\r\n", "GET\r\n\r\n", "GET /healthz HTTP/9.9\r\n\r\n",
                              "\x01\x02\x03\r\n\r\n"}) {
    const auto reply = sendRequest(server->port(), garbage, 500ms);
    EXPECT_TRUE(reply.closed) << garbage;
    EXPECT_NE(reply.status, 200) << garbage;
    if (reply.status != 0) {
      EXPECT_GE(reply.status, 400) << garbage;
      EXPECT_LT(reply.status, 600) << garbage;
    }
  }
  EXPECT_EQ(get(server->port(), "/healthz").status, 200);
}

TEST(HttpServer, RefusesHeadersOverTheMemoryLimitAndGoesOnServing) {
  auto server = startServer({{"/healthz", replyWith("ok")}});
  ASSERT_TRUE(server);
  const std::string huge(4 * limits::kMaxHttpConnectionBytes, 'a');
  const auto header = sendRequest(
      server->port(), "GET /healthz HTTP/1.1\r\nHost: test\r\nX-Big: " + huge + "\r\n\r\n");
  EXPECT_TRUE(header.closed);
  if (header.status != 0) EXPECT_THAT(header.status, ::testing::AnyOf(413, 414, 431));
  const auto url = sendRequest(server->port(), "GET /healthz?" + huge + kRequestEnd);
  EXPECT_TRUE(url.closed);
  if (url.status != 0) EXPECT_THAT(url.status, ::testing::AnyOf(413, 414, 431));
  EXPECT_EQ(get(server->port(), "/healthz").status, 200);
}

TEST(HttpServer, AnswersNoConnectionOverTheLimitAndServesOnceOneEnds) {
  HttpServerLimits limits;
  limits.connections = 3;
  limits.connectionsPerAddress = 0;
  auto server = startServer({{"/healthz", replyWith("ok")}}, limits);
  ASSERT_TRUE(server);
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<RawConnection>(server->port()));
    ASSERT_TRUE(idle.back()->connected());
  }
  // Each of these is either closed at once or left in the kernel's backlog; none is answered
  // while the limit is reached.
  std::vector<std::unique_ptr<RawConnection>> over;
  for (int i = 0; i < 20; ++i) {
    over.push_back(std::make_unique<RawConnection>(server->port()));
    (void)over.back()->send(std::string("GET /healthz") + kRequestEnd);
  }
  std::this_thread::sleep_for(50ms);
  for (auto& connection : over) EXPECT_EQ(connection->readUntilClosed(10ms).bytes, "");
  over.clear();
  idle.pop_back();
  EXPECT_EQ(statusOnceServed(server->port(), "/healthz"), 200);
}

TEST(HttpServer, ClosesConnectionsOverTheLimitOfOneAddress) {
  HttpServerLimits limits;
  limits.connectionsPerAddress = 2;
  auto server = startServer({{"/healthz", replyWith("ok")}}, limits);
  ASSERT_TRUE(server);
  RawConnection first(server->port());
  RawConnection second(server->port());
  ASSERT_TRUE(first.connected() && second.connected());
  EXPECT_EQ(get(server->port(), "/healthz").status, 0);
  second.close();
  EXPECT_EQ(statusOnceServed(server->port(), "/healthz"), 200);
}

TEST(HttpServer, StopsWhileAHandlerRuns) {
  std::atomic<bool> entered{false};
  auto server = startServer({{"/slow", [&](const HttpRequest&) {
                                entered = true;
                                std::this_thread::sleep_for(100ms);
                                return HttpReply{200, "text/plain", "late"};
                              }}});
  ASSERT_TRUE(server);
  const uint16_t port = server->port();
  std::thread client([port] { (void)get(port, "/slow"); });
  RawConnection idle(port);  // a connection open when the server stops
  while (!entered) std::this_thread::sleep_for(1ms);
  server.reset();  // returns once the handler is done
  client.join();
  EXPECT_EQ(get(port, "/slow").status, 0);  // nobody listens any more
}

TEST(HttpServer, ListensOnEveryInterface) {
  auto server = HttpServer::start(":0", {{"/healthz", replyWith("ok")}});
  ASSERT_TRUE(server) << server.status().toString();
  EXPECT_EQ(get((*server)->port(), "/healthz").status, 200);  // IPv4 loopback reaches it
}

TEST(HttpServer, ListensOnIpv6Loopback) {
  auto server = HttpServer::start("[::1]:0", {{"/healthz", replyWith("ok")}});
  if (!server) GTEST_SKIP() << "no IPv6 loopback here: " << server.status().toString();
  EXPECT_NE((*server)->port(), 0);
}

TEST(HttpServer, NamesTheAddressWhenThePortIsTaken) {
  auto first = startServer({});
  ASSERT_TRUE(first);
  const std::string address = "127.0.0.1:" + std::to_string(first->port());
  auto second = HttpServer::start(address, {});
  ASSERT_FALSE(second);
  EXPECT_THAT(second.status().message(), HasSubstr("listening on " + address));
  EXPECT_THAT(second.status().message(), HasSubstr("in use"));
}

TEST(HttpServer, RefusesABadBindAddressNamingIt) {
  auto server = HttpServer::start(":99999", {});
  ASSERT_FALSE(server);
  EXPECT_THAT(server.status().message(), StartsWith("bind address \":99999\""));
  EXPECT_FALSE(HttpServer::start("0", {}));  // disabled is the caller's business
}

TEST(HttpServer, DispatchesWithoutASocket) {
  const HttpRoutes routes{{"/x", replyWith("x")}, {"/throws", [](const HttpRequest&) -> HttpReply {
                                                     throw std::runtime_error("no");
                                                   }}};
  HttpRequest request;
  request.method = "GET";
  request.path = "/x";
  EXPECT_EQ(HttpServer::dispatch(routes, request)->body, "x");
  request.path = "/y";
  EXPECT_EQ(HttpServer::dispatch(routes, request)->status, 404);
  request.path = "/throws";
  const auto thrown = HttpServer::dispatch(routes, request);
  ASSERT_FALSE(thrown);
  EXPECT_EQ(thrown.status().message(), "/throws: no");
}

}  // namespace
}  // namespace wop::server
