// Outbound HTTP from a reconcile (wop_http_call): requests to the hosts the operator's
// spec.allowedHosts lists, HTTPS only, answered asynchronously like API calls.
//
//   HttpResponse r = co_await ctx.http.get("https://api.example.com/v1/zones");
//   if (!r.ok()) co_return Result::error(r.errorMessage());
//
//   HttpRequest post{.method = "POST", .url = "https://api.example.com/v1/records",
//                    .headers = {{"Content-Type", "application/json"}}, .body = payload};
//   HttpResponse created = co_await ctx.http.send(post);
//
// A request the host refuses (a host not allowed, a malformed URL or header, too many calls in
// flight: abi/wop_abi.h has the rules and limits) completes at once with a negative status;
// the host's log says why. No redirect is followed: a 3xx is the answer.
#pragma once

#include <coroutine>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wop/response.h"

namespace wop::sdk {

namespace detail {
class Runtime;
}

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS
  std::string url;             // https://host[:port]/path?query
  HttpHeaders headers;
  std::string body;               // bytes; sent base64-encoded, as the ABI wants
  uint32_t timeoutMs = 0;         // 0: the host's default (WOP_HTTP_DEFAULT_TIMEOUT_MS)
  uint32_t maxResponseBytes = 0;  // 0: the host's default (WOP_HTTP_DEFAULT_RESPONSE_BYTES)

  // The wop_http_call JSON.
  std::string toJson() const;
  // The request that JSON describes (the testing kit's fake host reads calls with it), or
  // nullopt when it is not one: no url, a field of the wrong type, a body not base64.
  static std::optional<HttpRequest> fromJson(std::string_view json);
};

struct HttpResponse {
  // The HTTP status, or a negative wop_status when no response came (refused, unreachable,
  // timed out, over a limit).
  int32_t status = 0;
  HttpHeaders headers;  // names lower-case, in the order received
  std::string body;     // the response body's bytes
  std::string error;    // the host's reason, when status < 0 and it gave one

  bool ok() const { return status >= 200 && status < 300; }
  bool hostError() const { return status < 0; }
  // The first header of that name (any case), or "".
  std::string header(std::string_view name) const;
  // A line for logs and Result::error.
  std::string errorMessage() const;

  // Decodes wop_on_complete's (status, body) for an HTTP call.
  static HttpResponse fromCompletion(int32_t status, const std::string& body);
  // The wop_on_complete body the host sends for this response (the inverse of fromCompletion;
  // the testing kit's fake host answers with it).
  std::string toCompletionBody() const;
};

// The awaitable of one HTTP call; as Call (wop/call.h): sent when awaited, at most once.
class [[nodiscard]] HttpCall {
 public:
  HttpCall(detail::Runtime* runtime, std::string request)
      : runtime_(runtime), request_(std::move(request)) {}

  bool await_ready();
  void await_suspend(std::coroutine_handle<> caller);
  HttpResponse await_resume() { return HttpResponse::fromCompletion(raw_.status, raw_.body); }

 private:
  detail::Runtime* runtime_;  // null: no host to send to (completes with WOP_ERR_UNAVAILABLE)
  std::string request_;
  int32_t token_ = 0;
  Response raw_;
};

// ctx.http: a handle on the runtime (one pointer), copied freely.
class Http {
 public:
  Http() = default;
  explicit Http(detail::Runtime& runtime) : runtime_(&runtime) {}

  HttpCall get(std::string_view url);
  HttpCall send(const HttpRequest& request);

 private:
  detail::Runtime* runtime_ = nullptr;
};

}  // namespace wop::sdk
