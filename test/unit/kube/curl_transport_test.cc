// CurlTransport's error boundary, against a tiny HTTP server on 127.0.0.1: a callback that
// throws fails (or is logged for) its own request only, and the I/O loop serves the next one.
#include "kube/curl_transport.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

namespace wop::kube {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Answers every request on its connection with 200 and kBody, then closes the connection.
class TinyHttpServer {
 public:
  static constexpr std::string_view kBody = R"({"kind":"Status"})";

  TinyHttpServer() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;  // any free port
    socklen_t length = sizeof(address);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        ::listen(listener_, 16) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }

  ~TinyHttpServer() {
    ::shutdown(listener_, SHUT_RDWR);  // ends the blocked accept()
    if (thread_.joinable()) thread_.join();
    ::close(listener_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void serve() {
    for (;;) {
      const int connection = ::accept(listener_, nullptr, nullptr);
      if (connection < 0) return;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t got = ::read(connection, buffer, sizeof(buffer));
        if (got <= 0) break;
        request.append(buffer, static_cast<size_t>(got));
      }
      const std::string response =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
          std::to_string(kBody.size()) + "\r\nConnection: close\r\n\r\n" + std::string(kBody);
      [[maybe_unused]] auto sent = ::write(connection, response.data(), response.size());
      ::close(connection);
    }
  }

  int listener_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

class CurlTransportBoundaryTest : public ::testing::Test {
 protected:
  static HttpRequest get() {
    HttpRequest request;
    request.method = "GET";
    request.path = "/api/v1/namespaces/default/configmaps";
    request.timeout = 5s;
    return request;
  }

  // A request after the failure: it must come back whole.
  void expectTheNextRequestCompletes() {
    auto response = transport_->sendAndWait(get(), {});
    ASSERT_TRUE(response) << response.error().message;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, TinyHttpServer::kBody);
  }

  static ClientConfig configFor(const TinyHttpServer& server) {
    ClientConfig config;
    config.server = server.url();
    return config;
  }

  TinyHttpServer server_;
  std::unique_ptr<CurlTransport> transport_ = std::make_unique<CurlTransport>(configFor(server_));
};

TEST_F(CurlTransportBoundaryTest, AThrowingResponseCallbackIsLoggedAndTheLoopGoesOn) {
  std::promise<int> called;
  ::testing::internal::CaptureStderr();
  transport_->send(get(), {}, [&](ApiResult<HttpResponse> result) {
    called.set_value(result ? result->status : -1);
    throw std::runtime_error("the handler broke");
  });
  auto future = called.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(future.get(), 200);
  expectTheNextRequestCompletes();
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(log, HasSubstr("wasm-operator: " + server_.url() +
                             "/api/v1/namespaces/default/configmaps: the response callback: "
                             "the handler broke\n"));
}

TEST_F(CurlTransportBoundaryTest, AThrowingStreamCallbackFailsThatStreamWithTheReason) {
  std::promise<std::optional<ApiError>> ended;
  HttpRequest watch = get();
  watch.streaming = true;
  watch.timeout.reset();
  StreamCallbacks callbacks;
  callbacks.onData = [](std::string_view) { throw std::runtime_error("cannot decode the event"); };
  callbacks.onDone = [&](std::optional<ApiError> error) { ended.set_value(std::move(error)); };
  auto handle = transport_->stream(watch, {}, std::move(callbacks));
  auto future = ended.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  auto error = future.get();
  ASSERT_TRUE(error.has_value()) << "the stream ended without an error";
  EXPECT_EQ(error->reason, ApiReason::kTransport);
  EXPECT_THAT(error->message, HasSubstr("a response body callback: cannot decode the event"));
  expectTheNextRequestCompletes();
}

TEST_F(CurlTransportBoundaryTest, AThrowingStatusCallbackFailsThatStream) {
  std::promise<std::optional<ApiError>> ended;
  HttpRequest watch = get();
  watch.streaming = true;
  watch.timeout.reset();
  StreamCallbacks callbacks;
  callbacks.onStatus = [](int) { throw std::bad_alloc(); };
  callbacks.onDone = [&](std::optional<ApiError> error) { ended.set_value(std::move(error)); };
  auto handle = transport_->stream(watch, {}, std::move(callbacks));
  auto future = ended.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  auto error = future.get();
  ASSERT_TRUE(error.has_value());
  EXPECT_THAT(error->message, HasSubstr("a response header callback: out of memory"));
  expectTheNextRequestCompletes();
}

TEST_F(CurlTransportBoundaryTest, AThrowingScheduledFunctionIsLoggedAndLaterOnesRun) {
  ::testing::internal::CaptureStderr();
  std::promise<void> later;
  transport_->schedule(0ms, [] { throw std::logic_error("a timer broke"); });
  transport_->schedule(1ms, [&] { later.set_value(); });
  ASSERT_EQ(later.get_future().wait_for(10s), std::future_status::ready);
  expectTheNextRequestCompletes();
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              HasSubstr("wasm-operator: a function scheduled on the I/O loop: a timer broke\n"));
}

}  // namespace
}  // namespace wop::kube
