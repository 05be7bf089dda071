#include "outbound/outbound_request.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "wop_abi.h"

namespace wop::outbound {
namespace {

using Json = nlohmann::json;

common::Result<OutboundRequest> parse(const Json& request) {
  return parseOutboundRequest(request.dump());
}

std::string refusal(const Json& request) {
  auto result = parse(request);
  return result ? std::string() : result.status().message();
}

TEST(OutboundRequestTest, OnlyTheUrlIsRequiredAndTheDefaultsAreTheAbis) {
  auto request = parse({{"url", "https://api.example.com/x"}});
  ASSERT_TRUE(request.isOk()) << request.status().toString();
  EXPECT_EQ(request->method, "GET");
  EXPECT_EQ(request->timeout.count(), WOP_HTTP_DEFAULT_TIMEOUT_MS);
  EXPECT_EQ(request->maxResponseBytes, WOP_HTTP_DEFAULT_RESPONSE_BYTES);
  EXPECT_NE(refusal(Json::object()), "");
  EXPECT_NE(refusal({{"url", 5}}), "");
  EXPECT_NE(refusal(Json::array()), "");
  EXPECT_FALSE(parseOutboundRequest("not json").isOk());
}

TEST(OutboundRequestTest, MethodsHeadersAndABase64Body) {
  auto request = parse({{"method", "POST"},
                        {"url", "https://api.example.com/x"},
                        {"headers", Json::array({Json::array({"Authorization", "Bearer t"}),
                                                 Json::array({"X-A", "1\t2"})})},
                        {"body", common::base64Encode(std::string("\0\xff{}", 4))},
                        {"timeoutMs", 500},
                        {"maxResponseBytes", 10}});
  ASSERT_TRUE(request.isOk()) << request.status().toString();
  EXPECT_EQ(request->body, std::string("\0\xff{}", 4));
  ASSERT_EQ(request->headers.size(), 2u);
  EXPECT_EQ(request->headers[1].second, "1\t2");
  EXPECT_EQ(request->timeout.count(), 500);
  EXPECT_NE(refusal({{"method", "CONNECT"}, {"url", "https://a.example/"}}), "");
  EXPECT_NE(refusal({{"method", "get"}, {"url", "https://a.example/"}}), "");
  EXPECT_NE(refusal({{"method", "TRACE"}, {"url", "https://a.example/"}}), "");
  EXPECT_NE(refusal({{"url", "https://a.example/"}, {"body", "!!!!"}}), "");
  EXPECT_NE(refusal({{"url", "https://a.example/"}, {"body", "e30="}}), "");  // GET with body
}

TEST(OutboundRequestTest, HeadersCannotSplitTheRequestOrTakeOverTheTransport) {
  for (const Json& header : std::vector<Json>{{"X-A", "v\r\nHost: evil"},
                                              {"X-A", "v\nX-B: w"},
                                              {"X-A", std::string("v\0w", 3)},
                                              {"X-A\r\nX-B", "v"},
                                              {"X A", "v"},
                                              {"", "v"},
                                              {"X:A", "v"},
                                              {"Host", "evil"},
                                              {"content-length", "0"},
                                              {"Transfer-Encoding", "chunked"},
                                              {"Connection", "close"},
                                              {"Proxy-Authorization", "x"},
                                              {":authority", "evil"},
                                              {"Expect", "100-continue"},
                                              {"X-A", "\x7f"},
                                              {"Ünicode", "v"}}) {
    EXPECT_NE(refusal({{"url", "https://a.example/"}, {"headers", Json::array({header})}}), "")
        << header;
  }
  EXPECT_NE(
      refusal({{"url", "https://a.example/"}, {"headers", Json::array({Json::array({"X-A"})})}}),
      "");
  EXPECT_NE(
      refusal({{"url", "https://a.example/"}, {"headers", Json::array({Json::array({"X-A", 1})})}}),
      "");
  EXPECT_NE(refusal({{"url", "https://a.example/"}, {"headers", Json::object({{"X-A", "v"}})}}),
            "");
  EXPECT_EQ(refusal({{"url", "https://a.example/"}, {"headers", Json::array({{"X-A", "v"}})}}), "");
}

TEST(OutboundRequestTest, EveryLimitIsEnforced) {
  Json headers = Json::array();
  for (size_t i = 0; i <= WOP_HTTP_MAX_HEADERS; ++i)
    headers.push_back({"X-" + std::to_string(i), "v"});
  auto tooMany = parse({{"url", "https://a.example/"}, {"headers", headers}});
  ASSERT_FALSE(tooMany);
  EXPECT_EQ(tooMany.status().code(), common::StatusCode::kResourceExhausted);
  EXPECT_NE(
      refusal({{"url", "https://a.example/"},
               {"headers", Json::array({{"X-A", std::string(WOP_HTTP_MAX_HEADER_BYTES, 'v')}})}}),
      "");
  EXPECT_NE(
      refusal(
          {{"method", "POST"},
           {"url", "https://a.example/"},
           {"body", common::base64Encode(std::string(WOP_HTTP_MAX_REQUEST_BODY_BYTES + 1, 'x'))}}),
      "");
  EXPECT_EQ(
      refusal({{"method", "POST"},
               {"url", "https://a.example/"},
               {"body", common::base64Encode(std::string(WOP_HTTP_MAX_REQUEST_BODY_BYTES, 'x'))}}),
      "");
  EXPECT_NE(refusal({{"url", "https://a.example/"}, {"timeoutMs", WOP_HTTP_MAX_TIMEOUT_MS + 1}}),
            "");
  EXPECT_NE(refusal({{"url", "https://a.example/"}, {"timeoutMs", 0}}), "");
  EXPECT_NE(refusal({{"url", "https://a.example/"}, {"timeoutMs", -5}}), "");
  EXPECT_NE(refusal({{"url", "https://a.example/"}, {"timeoutMs", 1.5}}), "");
  EXPECT_NE(refusal({{"url", "https://a.example/"}, {"timeoutMs", "10"}}), "");
  EXPECT_NE(refusal({{"url", "https://a.example/"},
                     {"maxResponseBytes", WOP_HTTP_MAX_RESPONSE_BYTES + 1}}),
            "");
  EXPECT_FALSE(parseOutboundRequest(std::string(100, '[') + std::string(100, ']')).isOk());
}

TEST(OutboundRequestTest, ErrorsNeverQuoteTheGuestsBytes) {
  const std::string secret = "s3cr3t-\x1b[2J";
  for (const Json& request : std::vector<Json>{
           {{"url", "https://" + secret + ".example/"}},
           {{"url", "https://a.example/" + secret}},
           {{"url", "https://a.example/"}, {"headers", Json::array({{"X-A", "v\r\n" + secret}})}},
           {{"method", secret}, {"url", "https://a.example/"}}}) {
    const std::string message = refusal(request);
    EXPECT_NE(message, "");
    EXPECT_EQ(message.find("s3cr3t"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace wop::outbound
