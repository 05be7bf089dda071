#include "wop/http.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "wop/host.h"
#include "wop/runtime.h"

namespace wop::sdk {
namespace {

// Answers wop_http_call with the next token, or with `refuse` when set.
class FakeHost final : public detail::Host {
 public:
  void log(int32_t, std::string_view) override {}
  int32_t configGet(std::string* out) override {
    *out = "{}";
    return WOP_OK;
  }
  int32_t declare(std::string_view) override { return 0; }
  int32_t cacheRead(std::string_view, std::string*) override { return WOP_ERR_NOT_FOUND; }
  int32_t apiCall(std::string_view) override { return WOP_ERR_UNAVAILABLE; }
  int32_t httpCall(std::string_view request) override {
    requests.emplace_back(request);
    return refuse != 0 ? refuse : ++token;
  }
  int32_t reconcileDone(uint32_t, int32_t, int64_t, std::string_view) override { return WOP_OK; }
  int32_t emitKey(std::string_view) override { return WOP_OK; }

  std::vector<std::string> requests;
  int32_t token = 0;
  int32_t refuse = 0;
};

TEST(SdkHttpTest, ARequestIsWrittenAsTheAbisJsonWithABase64Body) {
  HttpRequest request{.method = "POST",
                      .url = "https://api.example.com/v1",
                      .headers = {{"Content-Type", "application/json"}},
                      .body = std::string("{}\0\xff", 4),
                      .timeoutMs = 500};
  auto json = nlohmann::json::parse(request.toJson());
  EXPECT_EQ(json["method"], "POST");
  EXPECT_EQ(json["url"], "https://api.example.com/v1");
  EXPECT_EQ(json["headers"], nlohmann::json::parse(R"([["Content-Type","application/json"]])"));
  EXPECT_EQ(json["body"], "e30A/w==");
  EXPECT_EQ(json["timeoutMs"], 500);
  EXPECT_FALSE(json.contains("maxResponseBytes"));
  EXPECT_FALSE(
      nlohmann::json::parse(HttpRequest{.url = "https://a.example/"}.toJson()).contains("body"));
}

TEST(SdkHttpTest, AnAnswerIsDecodedAndAFailureKeepsTheHostsReason) {
  auto response = HttpResponse::fromCompletion(
      200, R"({"status":200,"headers":[["content-type","text/plain"]],"body":"aGVsbG8="})");
  EXPECT_TRUE(response.ok());
  EXPECT_EQ(response.body, "hello");
  EXPECT_EQ(response.header("Content-Type"), "text/plain");
  EXPECT_EQ(response.header("x-none"), "");
  for (const char* body : {"aGVsbG8", "aGVs*G8=", "====", "a==="}) {
    EXPECT_EQ(
        HttpResponse::fromCompletion(200, nlohmann::json({{"status", 200}, {"body", body}}).dump())
            .body,
        "")
        << body;
  }
  EXPECT_EQ(HttpResponse::fromCompletion(200, R"({"body":"YQ=="})").body, "a");
  EXPECT_EQ(HttpResponse::fromCompletion(200, R"({"body":"YWI="})").body, "ab");
  auto failed = HttpResponse::fromCompletion(WOP_ERR_UNAVAILABLE, R"({"error":"timed out"})");
  EXPECT_TRUE(failed.hostError());
  EXPECT_EQ(failed.errorMessage(), "http call failed: WOP_ERR_UNAVAILABLE: timed out");
  EXPECT_EQ(HttpResponse::fromCompletion(500, "not json").errorMessage(), "HTTP 500");
}

TEST(SdkHttpTest, ACallSuspendsUntilItsTokenCompletes) {
  FakeHost host;
  detail::Runtime runtime(host);
  HttpCall call = Http(runtime).get("https://api.example.com/x");
  ASSERT_FALSE(call.await_ready());
  ASSERT_EQ(host.requests.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(host.requests[0])["method"], "GET");
  call.await_suspend(std::noop_coroutine());
  EXPECT_EQ(runtime.pendingCalls(), 1u);
  runtime.complete(1, 404, R"({"status":404,"headers":[],"body":"bm9wZQ=="})");
  EXPECT_EQ(runtime.pendingCalls(), 0u);
  HttpResponse response = call.await_resume();
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, "nope");
}

TEST(SdkHttpTest, ARefusedCallCompletesAtOnceWithTheHostsStatus) {
  FakeHost host;
  host.refuse = WOP_ERR_FORBIDDEN;
  detail::Runtime runtime(host);
  HttpCall call = Http(runtime).get("https://not-allowed.example/");
  EXPECT_TRUE(call.await_ready());
  EXPECT_EQ(call.await_resume().status, WOP_ERR_FORBIDDEN);
  HttpCall detached = Http().get("https://a.example/");  // a Context without a runtime
  EXPECT_TRUE(detached.await_ready());
  EXPECT_EQ(detached.await_resume().status, WOP_ERR_UNAVAILABLE);
}

TEST(SdkHttpTest, RequestsAndResponsesReadBackWhatTheyWrite) {
  HttpRequest request{.method = "PUT",
                      .url = "https://a.example:8443/x?y=1",
                      .headers = {{"X-Token", "t"}},
                      .body = std::string("\0\xff bytes", 8),
                      .timeoutMs = 500,
                      .maxResponseBytes = 64};
  auto read = HttpRequest::fromJson(request.toJson());
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->method, "PUT");
  EXPECT_EQ(read->url, request.url);
  EXPECT_EQ(read->headers, request.headers);
  EXPECT_EQ(read->body, request.body);
  EXPECT_EQ(read->timeoutMs, 500u);
  EXPECT_EQ(read->maxResponseBytes, 64u);
  for (const char* bad :
       {"[]", "{}", R"({"url": 7})", R"({"url":"https://a","body":"!!"})",
        R"({"url":"https://a","headers":[["a"]]})", R"({"url":"https://a","timeoutMs":-1})"}) {
    EXPECT_FALSE(HttpRequest::fromJson(bad).has_value()) << bad;
  }

  HttpResponse response{.status = 200, .headers = {{"etag", "\"1\""}}, .body = "\x01\x02"};
  HttpResponse back = HttpResponse::fromCompletion(200, response.toCompletionBody());
  EXPECT_EQ(back.headers, response.headers);
  EXPECT_EQ(back.body, response.body);
  HttpResponse refused{.status = WOP_ERR_FORBIDDEN, .error = "not allowed"};
  EXPECT_EQ(HttpResponse::fromCompletion(refused.status, refused.toCompletionBody()).error,
            "not allowed");
}

}  // namespace
}  // namespace wop::sdk
