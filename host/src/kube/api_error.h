// Errors of the Kubernetes API as values: the server's metav1.Status (reason, code, message)
// turned into a typed reason, plus transport and decoding failures, so callers can branch on
// NotFound, Conflict, Gone, ... and retry what is retryable.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace wop::kube {

enum class ApiReason {
  kBadRequest,             // 400
  kUnauthorized,           // 401
  kForbidden,              // 403
  kNotFound,               // 404
  kMethodNotAllowed,       // 405
  kNotAcceptable,          // 406
  kAlreadyExists,          // 409 reason AlreadyExists
  kConflict,               // 409 otherwise (stale resourceVersion)
  kGone,                   // 410 (resourceVersion too old: relist)
  kExpired,                // reason Expired (a continue token too old)
  kRequestEntityTooLarge,  // 413
  kUnsupportedMediaType,   // 415
  kInvalid,                // 422
  kTooManyRequests,        // 429
  kInternalError,          // 500
  kServiceUnavailable,     // 503
  kServerTimeout,          // 504 or reason ServerTimeout
  kTimeout,                // reason Timeout, or our own request timeout
  kTransport,              // no HTTP response: connection refused/reset, TLS failure
  kDecode,                 // a response we could not decode
  kUnknown,                // any other status
};

const char* apiReasonName(ApiReason reason);

struct ApiError {
  ApiReason reason = ApiReason::kUnknown;
  int httpStatus = 0;                    // 0 for kTransport
  std::string message;                   // the server's message, or what went wrong locally
  std::optional<int> retryAfterSeconds;  // from Retry-After or details.retryAfterSeconds

  // Worth retrying with backoff: 429, 503, 504, timeouts, transport errors, and any other 5xx
  // that came with a retry delay (as client-go does; a bare 500 is usually a server bug that a
  // retry would repeat).
  bool isRetryable() const;
  // "NotFound (404): testresources.bench.wasm-operator.dev \"x\" not found"
  std::string toString() const;
  common::Status toStatus() const;
};

// Builds the error for a non-2xx response. body is usually a metav1.Status; if it is not (a
// proxy's HTML page, garbage, empty), the reason comes from the HTTP status alone and the
// message quotes the start of the body. retryAfterHeader is the Retry-After header, if any.
ApiError apiErrorFromResponse(int httpStatus, std::string_view body,
                              std::optional<std::string_view> retryAfterHeader = std::nullopt);

// Convenience constructors for errors without an HTTP response.
ApiError transportError(std::string message);
ApiError decodeError(std::string message);

template <typename T>
using ApiResult = common::Result<T, ApiError>;

}  // namespace wop::kube
