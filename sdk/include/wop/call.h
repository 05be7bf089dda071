// Call: the awaitable of one API call (wop_api_call + wop_on_complete).
//
//   Response r = co_await ctx.client.create(object);
//
// The request is sent when the Call is awaited, not when it is built. If the host refuses it
// (a negative wop_status: bad request, too many pending calls, ...) the Call completes at once
// with that status and does not suspend. Otherwise the awaiting coroutine sleeps until the
// host delivers the answer under its token. A Call must be awaited at most once, inside a
// coroutine whose frame stays alive until it resumes (which the runtime guarantees for
// reconcile tasks).
#pragma once

#include <coroutine>
#include <string>
#include <utility>

#include "wop/response.h"

namespace wop::sdk {

namespace detail {
class Runtime;
}

class [[nodiscard]] Call {
 public:
  Call(detail::Runtime& runtime, std::string request)
      : runtime_(&runtime), request_(std::move(request)) {}
  // A Call that is already answered (a helper found there was nothing to do, or a bad request).
  static Call completed(Response response) {
    Call call;
    call.response_ = std::move(response);
    return call;
  }

  bool await_ready();
  void await_suspend(std::coroutine_handle<> caller);
  Response await_resume() { return std::move(response_); }

 private:
  Call() = default;
  detail::Runtime* runtime_ = nullptr;  // null: already answered
  std::string request_;
  int32_t token_ = 0;
  Response response_;
};

}  // namespace wop::sdk
