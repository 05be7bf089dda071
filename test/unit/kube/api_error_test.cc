#include "kube/api_error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/utf8.h"

namespace wop::kube {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Bodies as kube-apiserver sends them (captured with kubectl -v=8).
constexpr std::string_view kNotFound =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"pods \"web-0\" not found","reason":"NotFound",)"
    R"("details":{"name":"web-0","kind":"pods"},"code":404})";
constexpr std::string_view kAlreadyExists =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"configmaps \"settings\" already exists","reason":"AlreadyExists",)"
    R"("details":{"name":"settings","kind":"configmaps"},"code":409})";
constexpr std::string_view kConflict =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"Operation cannot be fulfilled on configmaps \"settings\": the object has been )"
    R"(modified; please apply your changes to the latest version and try again",)"
    R"("reason":"Conflict","details":{"name":"settings","kind":"configmaps"},"code":409})";
constexpr std::string_view kGone =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"json("message":"too old resource version: 1 (52310)","reason":"Gone","code":410})json";
constexpr std::string_view kExpired =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"The provided continue parameter is too old to display a consistent list )"
    R"(result.",)"
    R"("reason":"Expired","code":410})";
constexpr std::string_view kInvalid =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: -1: must be )"
    R"(greater than or equal to 0","reason":"Invalid","details":{"name":"web","group":"apps",)"
    R"("kind":"Deployment","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: -1: )"
    R"(must be greater than or equal to 0","field":"spec.replicas"}]},"code":422})";
constexpr std::string_view kTooManyRequests =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"Too many requests, please try again later.","reason":"TooManyRequests",)"
    R"("details":{"retryAfterSeconds":5},"code":429})";

TEST(ApiError, ReadsANotFoundStatus) {
  ApiError error = apiErrorFromResponse(404, kNotFound);
  EXPECT_EQ(error.reason, ApiReason::kNotFound);
  EXPECT_EQ(error.httpStatus, 404);
  EXPECT_EQ(error.message, "pods \"web-0\" not found");
  EXPECT_FALSE(error.retryAfterSeconds);
  EXPECT_FALSE(error.isRetryable());
  EXPECT_EQ(error.toString(), "NotFound (404): pods \"web-0\" not found");
  EXPECT_EQ(error.toStatus().code(), common::StatusCode::kNotFound);
  EXPECT_EQ(error.toStatus().message(), error.toString());
}

TEST(ApiError, TellsAlreadyExistsFromConflictThoughBothAre409) {
  EXPECT_EQ(apiErrorFromResponse(409, kAlreadyExists).reason, ApiReason::kAlreadyExists);
  EXPECT_EQ(apiErrorFromResponse(409, kConflict).reason, ApiReason::kConflict);
  EXPECT_EQ(apiErrorFromResponse(409, "").reason, ApiReason::kConflict);
}

TEST(ApiError, TellsGoneFromExpired) {
  EXPECT_EQ(apiErrorFromResponse(410, kGone).reason, ApiReason::kGone);
  EXPECT_EQ(apiErrorFromResponse(410, kExpired).reason, ApiReason::kExpired);
  EXPECT_EQ(apiErrorFromResponse(410, "gone").reason, ApiReason::kGone);
  EXPECT_EQ(apiErrorFromResponse(410, kGone).toStatus().code(),
            common::StatusCode::kFailedPrecondition);
}

TEST(ApiError, KeepsTheMessageOfAnInvalidObjectWithCauses) {
  ApiError error = apiErrorFromResponse(422, kInvalid);
  EXPECT_EQ(error.reason, ApiReason::kInvalid);
  EXPECT_THAT(error.message, HasSubstr("spec.replicas: Invalid value: -1"));
  EXPECT_EQ(error.toStatus().code(), common::StatusCode::kInvalidArgument);
}

TEST(ApiError, TakesTheRetryDelayFromTheStatusDetails) {
  ApiError error = apiErrorFromResponse(429, kTooManyRequests);
  EXPECT_EQ(error.reason, ApiReason::kTooManyRequests);
  EXPECT_EQ(error.retryAfterSeconds, 5);
  EXPECT_TRUE(error.isRetryable());
  EXPECT_EQ(error.toStatus().code(), common::StatusCode::kResourceExhausted);
}

TEST(ApiError, PrefersTheRetryAfterHeaderToTheDetails) {
  EXPECT_EQ(apiErrorFromResponse(429, kTooManyRequests, "2").retryAfterSeconds, 2);
  EXPECT_EQ(apiErrorFromResponse(429, "", " 7 ").retryAfterSeconds, 7);
}

TEST(ApiError, IgnoresARetryAfterHeaderThatIsNotSeconds) {
  EXPECT_EQ(apiErrorFromResponse(429, kTooManyRequests, "Wed, 21 Oct 2015 07:28:00 GMT")
                .retryAfterSeconds,
            5);
  EXPECT_FALSE(apiErrorFromResponse(503, "", "-1").retryAfterSeconds);
  EXPECT_FALSE(apiErrorFromResponse(503, "", "").retryAfterSeconds);
}

TEST(ApiError, ClampsAHugeRetryDelay) {
  EXPECT_EQ(apiErrorFromResponse(429, "", "86400").retryAfterSeconds, 3600);
  EXPECT_EQ(apiErrorFromResponse(429, "", "99999999999999999999999").retryAfterSeconds, 3600);
  EXPECT_EQ(apiErrorFromResponse(
                429, R"({"kind":"Status","details":{"retryAfterSeconds":9223372036854775807}})")
                .retryAfterSeconds,
            3600);
}

TEST(ApiError, QuotesTheStartOfAnHtmlBody) {
  const std::string body =
      "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>" + std::string(500, 'x');
  ApiError error = apiErrorFromResponse(502, body);
  EXPECT_EQ(error.reason, ApiReason::kUnknown);
  EXPECT_THAT(error.message, StartsWith("HTTP 502: <html>  <head><title>502 Bad Gateway"));
  EXPECT_LE(error.message.size(), std::string("HTTP 502: ").size() + 200 + 3);
  EXPECT_EQ(error.message.find('\n'), std::string::npos);
  EXPECT_FALSE(error.isRetryable());
  EXPECT_EQ(error.toStatus().code(), common::StatusCode::kUnavailable);
}

TEST(ApiError, SaysSoWhenTheBodyIsEmpty) {
  ApiError error = apiErrorFromResponse(503, "");
  EXPECT_EQ(error.reason, ApiReason::kServiceUnavailable);
  EXPECT_EQ(error.message, "HTTP 503: empty body");
  EXPECT_TRUE(error.isRetryable());
}

TEST(ApiError, FallsBackToTheHttpStatusForTruncatedJson) {
  ApiError error = apiErrorFromResponse(404, kNotFound.substr(0, 60));
  EXPECT_EQ(error.reason, ApiReason::kNotFound);
  EXPECT_THAT(error.message, StartsWith("HTTP 404: {\"kind\":\"Status\""));
}

TEST(ApiError, FallsBackToTheHttpStatusForJsonThatIsNotAStatus) {
  ApiError error = apiErrorFromResponse(403, R"({"error":"forbidden by proxy"})");
  EXPECT_EQ(error.reason, ApiReason::kForbidden);
  EXPECT_THAT(error.message, HasSubstr("forbidden by proxy"));
}

TEST(ApiError, FallsBackToTheHttpStatusForAnUnknownReason) {
  ApiError error = apiErrorFromResponse(
      504, R"({"kind":"Status","status":"Failure","message":"slow","reason":"Sleepy","code":504})");
  EXPECT_EQ(error.reason, ApiReason::kServerTimeout);
  EXPECT_EQ(error.message, "slow");
  EXPECT_EQ(error.toStatus().code(), common::StatusCode::kDeadlineExceeded);
}

TEST(ApiError, MapsEveryKnownHttpStatus) {
  const std::pair<int, ApiReason> cases[] = {
      {400, ApiReason::kBadRequest},
      {401, ApiReason::kUnauthorized},
      {403, ApiReason::kForbidden},
      {404, ApiReason::kNotFound},
      {405, ApiReason::kMethodNotAllowed},
      {406, ApiReason::kNotAcceptable},
      {409, ApiReason::kConflict},
      {410, ApiReason::kGone},
      {413, ApiReason::kRequestEntityTooLarge},
      {415, ApiReason::kUnsupportedMediaType},
      {422, ApiReason::kInvalid},
      {429, ApiReason::kTooManyRequests},
      {500, ApiReason::kInternalError},
      {503, ApiReason::kServiceUnavailable},
      {504, ApiReason::kServerTimeout},
      {418, ApiReason::kUnknown},
      {502, ApiReason::kUnknown},
  };
  for (auto [status, reason] : cases) {
    EXPECT_EQ(apiErrorFromResponse(status, "").reason, reason) << status;
  }
}

TEST(ApiError, RetriesOnlyWhatARetryCanFix) {
  EXPECT_TRUE(apiErrorFromResponse(429, "").isRetryable());
  EXPECT_TRUE(apiErrorFromResponse(503, "").isRetryable());
  EXPECT_TRUE(apiErrorFromResponse(504, "").isRetryable());
  EXPECT_TRUE(transportError("connection refused").isRetryable());
  ApiError timeout;
  timeout.reason = ApiReason::kTimeout;
  EXPECT_TRUE(timeout.isRetryable());

  EXPECT_FALSE(apiErrorFromResponse(500, "").isRetryable()) << "a bare 500 is a server bug";
  EXPECT_TRUE(apiErrorFromResponse(500, "", "1").isRetryable()) << "unless it asks for a retry";
  EXPECT_FALSE(apiErrorFromResponse(501, "", "1").isRetryable());
  for (int status : {400, 401, 403, 404, 409, 410, 422}) {
    EXPECT_FALSE(apiErrorFromResponse(status, "").isRetryable()) << status;
  }
  EXPECT_FALSE(decodeError("bad JSON").isRetryable());
}

TEST(ApiError, DescribesErrorsWithoutAnHttpResponse) {
  ApiError transport = transportError("connection refused");
  EXPECT_EQ(transport.httpStatus, 0);
  EXPECT_EQ(transport.toString(), "Transport: connection refused");
  EXPECT_EQ(transport.toStatus().code(), common::StatusCode::kUnavailable);

  ApiError decode = decodeError("list has no items");
  EXPECT_EQ(decode.toString(), "Decode: list has no items");
  EXPECT_EQ(decode.toStatus().code(), common::StatusCode::kInvalidArgument);
}

TEST(ApiError, NamesEveryReason) {
  EXPECT_STREQ(apiReasonName(ApiReason::kAlreadyExists), "AlreadyExists");
  EXPECT_STREQ(apiReasonName(ApiReason::kRequestEntityTooLarge), "RequestEntityTooLarge");
  EXPECT_STREQ(apiReasonName(ApiReason::kUnknown), "Unknown");
  EXPECT_STREQ(apiReasonName(ApiReason::kServerTimeout), "ServerTimeout");
}

TEST(ApiError, TakesNoReasonOfOurOwnFromTheServer) {
  ApiError error = apiErrorFromResponse(
      400, R"({"kind":"Status","message":"m","reason":"Transport","code":400})");
  EXPECT_EQ(error.reason, ApiReason::kBadRequest);
}

TEST(ApiError, ReplacesControlCharactersInTheServerMessage) {
  ApiError error =
      apiErrorFromResponse(400, R"({"kind":"Status","message":"line1\nline2\u001b[31m"})");
  EXPECT_EQ(error.message, "line1 line2 [31m");
}

TEST(ApiError, MessagesAreValidUtf8WhateverTheServerSent) {
  // An admission webhook's message with bytes that are not UTF-8, in a Status and in a body
  // that is not JSON: the message must survive a strict JSON writer (the I/O thread dumps it).
  for (std::string_view body :
       {std::string_view("{\"kind\":\"Status\",\"message\":\"denied: \xff\xfe \xc3\"}"),
        std::string_view("<html>denied \xc0\xaf \xed\xa0\x80</html>"),
        std::string_view("{\"kind\":\"Status\",\"message\":\"lone \\ud800 surrogate\"}")}) {
    ApiError error = apiErrorFromResponse(403, body);
    EXPECT_TRUE(common::isValidUtf8(error.message)) << error.message;
    EXPECT_NO_THROW((void)nlohmann::json({{"message", error.message}}).dump());
  }
  ApiError error = apiErrorFromResponse(500, "oops \xff");
  EXPECT_EQ(error.message, "HTTP 500: oops \xEF\xBF\xBD");
}

}  // namespace
}  // namespace wop::kube
