#include "kube/api_error.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <utility>

#include "common/limits.h"
#include "common/utf8.h"

namespace wop::kube {
namespace {

using common::Status;
using common::StatusCode;

// A server asking for a longer pause than this is clamped: a watch or a reconcile stalled for
// hours by one header is worse than an early retry.
constexpr int kMaxRetryAfterSeconds = 3600;
// How much of a body that is not a Status the message quotes.
constexpr size_t kBodyPreviewBytes = 200;

struct ReasonName {
  ApiReason reason;
  std::string_view name;  // as metav1.StatusReason spells it, where the server sends it
};

constexpr std::array<ReasonName, 21> kReasonNames = {{
    {ApiReason::kBadRequest, "BadRequest"},
    {ApiReason::kUnauthorized, "Unauthorized"},
    {ApiReason::kForbidden, "Forbidden"},
    {ApiReason::kNotFound, "NotFound"},
    {ApiReason::kMethodNotAllowed, "MethodNotAllowed"},
    {ApiReason::kNotAcceptable, "NotAcceptable"},
    {ApiReason::kAlreadyExists, "AlreadyExists"},
    {ApiReason::kConflict, "Conflict"},
    {ApiReason::kGone, "Gone"},
    {ApiReason::kExpired, "Expired"},
    {ApiReason::kRequestEntityTooLarge, "RequestEntityTooLarge"},
    {ApiReason::kUnsupportedMediaType, "UnsupportedMediaType"},
    {ApiReason::kInvalid, "Invalid"},
    {ApiReason::kTooManyRequests, "TooManyRequests"},
    {ApiReason::kInternalError, "InternalError"},
    {ApiReason::kServiceUnavailable, "ServiceUnavailable"},
    {ApiReason::kServerTimeout, "ServerTimeout"},
    {ApiReason::kTimeout, "Timeout"},
    {ApiReason::kTransport, "Transport"},
    {ApiReason::kDecode, "Decode"},
    {ApiReason::kUnknown, "Unknown"},
}};

// Only reasons a server sends; Transport, Decode and Unknown are ours.
std::optional<ApiReason> reasonFromName(std::string_view name) {
  for (const auto& entry : kReasonNames) {
    if (entry.name != name) continue;
    const bool ours = entry.reason == ApiReason::kTransport || entry.reason == ApiReason::kDecode ||
                      entry.reason == ApiReason::kUnknown;
    if (ours) return std::nullopt;
    return entry.reason;
  }
  return std::nullopt;
}

ApiReason reasonFromHttpStatus(int httpStatus) {
  switch (httpStatus) {
    case 400:
      return ApiReason::kBadRequest;
    case 401:
      return ApiReason::kUnauthorized;
    case 403:
      return ApiReason::kForbidden;
    case 404:
      return ApiReason::kNotFound;
    case 405:
      return ApiReason::kMethodNotAllowed;
    case 406:
      return ApiReason::kNotAcceptable;
    case 409:
      return ApiReason::kConflict;
    case 410:
      return ApiReason::kGone;
    case 413:
      return ApiReason::kRequestEntityTooLarge;
    case 415:
      return ApiReason::kUnsupportedMediaType;
    case 422:
      return ApiReason::kInvalid;
    case 429:
      return ApiReason::kTooManyRequests;
    case 500:
      return ApiReason::kInternalError;
    case 503:
      return ApiReason::kServiceUnavailable;
    case 504:
      return ApiReason::kServerTimeout;
    default:
      return ApiReason::kUnknown;
  }
}

int clampRetryAfter(int64_t seconds) {
  return static_cast<int>(std::clamp<int64_t>(seconds, 0, kMaxRetryAfterSeconds));
}

// Retry-After as delta-seconds. The HTTP-date form would need the clock; the API server never
// sends it, so it is ignored (as is anything else that is not a number).
std::optional<int> parseRetryAfterHeader(std::string_view header) {
  while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) {
    header.remove_prefix(1);
  }
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) {
    header.remove_suffix(1);
  }
  if (header.empty()) return std::nullopt;
  if (!std::all_of(header.begin(), header.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  uint64_t seconds = 0;
  auto [end, error] = std::from_chars(header.data(), header.data() + header.size(), seconds);
  if (error == std::errc::result_out_of_range) return kMaxRetryAfterSeconds;
  if (error != std::errc() || end != header.data() + header.size()) return std::nullopt;
  return static_cast<int>(std::min<uint64_t>(seconds, kMaxRetryAfterSeconds));
}

// Server text (an API server's or an admission webhook's) goes to logs, CLI output and guests
// as JSON: valid UTF-8 (a strict JSON writer throws on anything else; invalid sequences become
// U+FFFD) and no control characters (no forged log lines). The one place network text is
// made safe: every message of an ApiError built from a response passes here.
std::string printable(std::string_view text) {
  std::string out = common::toValidUtf8(text);
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = ' ';
  }
  return out;
}

// "HTTP 502: <start of the body>", cut on a UTF-8 character boundary.
std::string describeBody(int httpStatus, std::string_view body) {
  std::string prefix = "HTTP " + std::to_string(httpStatus) + ": ";
  if (body.empty()) return prefix + "empty body";
  const std::string_view preview = common::utf8Prefix(body, kBodyPreviewBytes);
  return prefix + printable(preview) + (preview.size() < body.size() ? "..." : "");
}

// Fills reason, message and details.retryAfterSeconds from a metav1.Status body. Returns false
// if body is not one (then error is untouched).
bool readStatusBody(std::string_view body, ApiError& error) {
  if (body.size() > limits::kMaxApiErrorBodyBytes) return false;
  simdjson::dom::parser parser;
  simdjson::dom::object status;
  if (parser.parse(body.data(), body.size()).get_object().get(status)) return false;
  std::string_view kind;
  if (status["kind"].get_string().get(kind) || kind != "Status") return false;

  std::string_view reasonName;
  if (!status["reason"].get_string().get(reasonName)) {
    if (auto reason = reasonFromName(reasonName)) error.reason = *reason;
  }
  std::string_view message;
  if (!status["message"].get_string().get(message) && !message.empty()) {
    error.message = printable(message);
  } else {
    error.message = "HTTP " + std::to_string(error.httpStatus) + " with no message";
  }
  int64_t retryAfter = 0;
  // Zero is the field's omitted value, not "retry now".
  if (!status.at_pointer("/details/retryAfterSeconds").get_int64().get(retryAfter) &&
      retryAfter > 0) {
    error.retryAfterSeconds = clampRetryAfter(retryAfter);
  }
  return true;
}

}  // namespace

const char* apiReasonName(ApiReason reason) {
  for (const auto& entry : kReasonNames) {
    if (entry.reason == reason) return entry.name.data();
  }
  return "Unknown";
}

bool ApiError::isRetryable() const {
  switch (reason) {
    case ApiReason::kTooManyRequests:
    case ApiReason::kServiceUnavailable:
    case ApiReason::kServerTimeout:
    case ApiReason::kTimeout:
    case ApiReason::kTransport:
      return true;
    default:
      return httpStatus >= 500 && httpStatus != 501 && retryAfterSeconds.has_value();
  }
}

std::string ApiError::toString() const {
  std::string out = apiReasonName(reason);
  if (httpStatus != 0) out += " (" + std::to_string(httpStatus) + ")";
  return out + ": " + message;
}

common::Status ApiError::toStatus() const {
  StatusCode code = StatusCode::kInternal;
  switch (reason) {
    case ApiReason::kNotFound:
      code = StatusCode::kNotFound;
      break;
    // Well-formed requests the cluster's current state refuses.
    case ApiReason::kAlreadyExists:
    case ApiReason::kConflict:
    case ApiReason::kGone:
    case ApiReason::kExpired:
    case ApiReason::kForbidden:
    case ApiReason::kUnauthorized:
      code = StatusCode::kFailedPrecondition;
      break;
    // Requests that would be refused whatever the state.
    case ApiReason::kBadRequest:
    case ApiReason::kInvalid:
    case ApiReason::kMethodNotAllowed:
    case ApiReason::kNotAcceptable:
    case ApiReason::kRequestEntityTooLarge:
    case ApiReason::kUnsupportedMediaType:
    case ApiReason::kDecode:
      code = StatusCode::kInvalidArgument;
      break;
    case ApiReason::kTooManyRequests:
      code = StatusCode::kResourceExhausted;
      break;
    case ApiReason::kServerTimeout:
    case ApiReason::kTimeout:
      code = StatusCode::kDeadlineExceeded;
      break;
    case ApiReason::kInternalError:
    case ApiReason::kServiceUnavailable:
    case ApiReason::kTransport:
      code = StatusCode::kUnavailable;
      break;
    case ApiReason::kUnknown:
      code = httpStatus >= 500 ? StatusCode::kUnavailable : StatusCode::kInternal;
      break;
  }
  return Status(code, toString());
}

ApiError apiErrorFromResponse(int httpStatus, std::string_view body,
                              std::optional<std::string_view> retryAfterHeader) {
  ApiError error;
  error.httpStatus = httpStatus;
  error.reason = reasonFromHttpStatus(httpStatus);
  if (!readStatusBody(body, error)) error.message = describeBody(httpStatus, body);
  if (retryAfterHeader) {
    // The header is what the server (or a proxy in front of it) says for this response.
    if (auto seconds = parseRetryAfterHeader(*retryAfterHeader)) error.retryAfterSeconds = seconds;
  }
  return error;
}

ApiError transportError(std::string message) {
  ApiError error;
  error.reason = ApiReason::kTransport;
  error.message = std::move(message);
  return error;
}

ApiError decodeError(std::string message) {
  ApiError error;
  error.reason = ApiReason::kDecode;
  error.message = std::move(message);
  return error;
}

}  // namespace wop::kube
