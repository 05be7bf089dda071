#include "runtime/http_calls.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "common/base64.h"
#include "fake_operator_parts.h"

namespace wop::runtime {
namespace {

using ::testing::HasSubstr;

// The client is real (its own I/O thread) but the tests send nothing anywhere reachable: a
// refused request never leaves, and 127.0.0.1:1 refuses connections at once.
class HttpCallsTest : public ::testing::Test {
 protected:
  void make(std::vector<std::string> allowed, outbound::OutboundClient* client) {
    auto hosts = outbound::AllowedHosts::parse(allowed);
    ASSERT_TRUE(hosts) << hosts.status().toString();
    answers_ =
        std::make_shared<ApiCalls>(*kube_, "op", kube::RequestOptions{}, [this] { answered_++; });
    http_ = std::make_shared<HttpCalls>(client, std::move(*hosts), answers_,
                                        [this](int32_t, std::string line) {
                                          std::lock_guard lock(mutex_);
                                          lines_.push_back(std::move(line));
                                        });
  }
  std::optional<Completion> awaitAnswer() {
    for (int i = 0; i < 500; ++i) {
      if (auto answer = answers_->take()) return answer;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
  }

  common::FakeClock clock_;
  kube::FakeTransport* transport_ = nullptr;
  std::unique_ptr<kube::Client> kube_ = testing::fakeClient(clock_, &transport_);
  std::unique_ptr<outbound::OutboundClient> client_ =
      outbound::OutboundClient::create({}, outbound::AddressPolicy()).value();
  std::shared_ptr<ApiCalls> answers_;
  std::shared_ptr<HttpCalls> http_;
  std::atomic<int> answered_{0};
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

TEST_F(HttpCallsTest, NothingIsAllowedUnlessListed) {
  make({}, client_.get());
  auto token = http_->call(R"({"url": "https://api.example.com/"})");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code, WOP_ERR_FORBIDDEN);
  EXPECT_THAT(token.error().message, HasSubstr("not in the operator's spec.allowedHosts"));
  EXPECT_EQ(answers_->pending(), 0);
}

TEST_F(HttpCallsTest, MalformedRequestsAndLimitsAreRefusedAtOnce) {
  make({"https://api.example.com"}, client_.get());
  EXPECT_EQ(http_->call("{").error().code, WOP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(http_->call(R"({"url": "ftp://api.example.com/"})").error().code,
            WOP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(http_->call(R"({"url": "https://api.example.com/", "timeoutMs": 600000})").error().code,
            WOP_ERR_LIMIT);
  EXPECT_EQ(answers_->pending(), 0);
}

TEST_F(HttpCallsTest, AnAddressThePolicyRefusesIsForbiddenEvenIfListed) {
  make({"https://169.254.169.254"}, client_.get());
  auto token = http_->call(R"({"url": "https://169.254.169.254/latest/meta-data"})");
  ASSERT_FALSE(token);
  EXPECT_EQ(token.error().code, WOP_ERR_FORBIDDEN);
  EXPECT_THAT(token.error().message, HasSubstr("link-local"));
  EXPECT_EQ(answers_->pending(), 0);
  EXPECT_EQ(http_->pending(), 0);
}

TEST_F(HttpCallsTest, AFailedConnectionIsAnsweredWithAStatusAndAReason) {
  make({"https://127.0.0.1:1"}, client_.get());
  auto token = http_->call(R"({"url": "https://127.0.0.1:1/", "timeoutMs": 5000})");
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(answers_->pending(), 1);
  auto answer = awaitAnswer();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->token, *token);
  EXPECT_EQ(answer->status, WOP_ERR_UNAVAILABLE);
  EXPECT_THAT(answer->body, HasSubstr(R"({"error":"127.0.0.1:1: )"));
  EXPECT_EQ(answers_->pending(), 0);
  EXPECT_EQ(http_->pending(), 0);
}

// A server that never answers: the kernel completes the TCP handshake into the listen backlog,
// and nobody ever accepts.
class SilentListener {
 public:
  SilentListener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), length), 0);
    EXPECT_EQ(::listen(fd_, 64), 0);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length), 0);
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  std::string base() const { return "https://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_;
  int port_ = 0;
};

TEST_F(HttpCallsTest, AStalledServerHoldsNoMoreThanTheAbisCallsAndEachEndsAtItsTimeout) {
  SilentListener silent;
  make({silent.base()}, client_.get());
  const std::string request = R"({"url": ")" + silent.base() + R"(/", "timeoutMs": 300})";
  for (uint32_t i = 0; i < WOP_MAX_PENDING_HTTP_CALLS; ++i) ASSERT_TRUE(http_->call(request));
  auto over = http_->call(request);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, WOP_ERR_LIMIT);
  for (uint32_t i = 0; i < WOP_MAX_PENDING_HTTP_CALLS; ++i) {
    auto answer = awaitAnswer();
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, WOP_ERR_UNAVAILABLE);
    EXPECT_THAT(answer->body, HasSubstr("no complete answer within 300 ms"));
  }
  EXPECT_EQ(http_->pending(), 0);
  EXPECT_EQ(client_->inFlight(), 0u);
  EXPECT_TRUE(http_->call(request));
}

TEST_F(HttpCallsTest, WithoutAClientEveryCallIsUnavailable) {
  make({"https://api.example.com"}, nullptr);
  EXPECT_EQ(http_->call(R"({"url": "https://api.example.com/"})").error().code,
            WOP_ERR_UNAVAILABLE);
}

TEST_F(HttpCallsTest, AResponseReachesTheGuestAsJsonWithABase64Body) {
  outbound::OutboundResponse response{
      201, {{"content-type", "text/plain"}, {"x-a", "caf\xc3\xa9"}}, std::string("\0\xff", 2)};
  auto parsed = nlohmann::json::parse(HttpCalls::responseJson(response));
  EXPECT_EQ(parsed["status"], 201);
  EXPECT_EQ(parsed["headers"][1][1], "caf\xc3\xa9");
  EXPECT_EQ(*common::base64Decode(parsed["body"].get<std::string>()), std::string("\0\xff", 2));
}

}  // namespace
}  // namespace wop::runtime
