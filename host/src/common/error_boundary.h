// The catch barrier of every boundary no exception may cross: a Wasmtime host function, a curl
// callback, a thread's loop. The host uses nlohmann::json and the std containers, which throw
// (bad_alloc, json::exception, out_of_range); below these barriers they may, above them they
// are a Status with a one-line reason, and the failure stays with the one request (or
// operator) that caused it.
//
// A boundary is one line:
//
//   common::Status status = common::guard("wop_api_call", [&] { ... });
//   common::Result<Foo> foo = common::guard("decoding the list", [&] { return decode(...); });
//   common::guardOrLog("a timer callback", fn);  // thread loops: report and go on
//
// Thread-safety: stateless; call from any thread.
#pragma once

#include <concepts>
#include <string_view>
#include <type_traits>
#include <utility>

#include "common/status.h"

namespace wop::common {

// The Status of the exception being handled: "<where>: <what()>" on one line (control
// characters escaped as in log lines), kResourceExhausted "<where>: out of memory" for
// std::bad_alloc, kInternal for anything else. Call only inside a catch block. Never throws:
// if even the reason cannot be built, the Status is kResourceExhausted "out of memory".
Status statusOfCurrentException(std::string_view where) noexcept;

// Writes "wasm-operator: [<context>: ]<status message>" as one line to stderr, for failures
// there is no one left to report to (a callback of the I/O loop threw). Never throws, and
// allocates nothing.
void logToStderr(const Status& status, std::string_view context = {}) noexcept;

namespace detail {
template <class R>
struct IsStatusResult : std::false_type {};
template <class T>
struct IsStatusResult<Result<T, Status>> : std::true_type {};
}  // namespace detail

// Runs body() and returns what it returns: body may return void (guard then returns Ok),
// Status or Result<T>. If body throws, the exception stops here and comes back as
// statusOfCurrentException(where). Never throws.
template <class F>
  requires std::invocable<F&>
auto guard(std::string_view where, F&& body) noexcept {
  using R = std::invoke_result_t<F&>;
  static_assert(std::is_void_v<R> || std::is_same_v<R, Status> || detail::IsStatusResult<R>::value,
                "guard's body returns void, Status or Result<T>");
  using Out = std::conditional_t<std::is_void_v<R>, Status, R>;
  try {
    if constexpr (std::is_void_v<R>) {
      body();
      return Out(Status::ok());
    } else {
      return Out(body());
    }
  } catch (...) {
    return Out(statusOfCurrentException(where));
  }
}

// guard() for loops that must go on: a failure of body (a thrown exception, or an error Status
// it returns) is logged to stderr as one line. Returns true when body succeeded.
template <class F>
  requires std::invocable<F&>
bool guardOrLog(std::string_view where, F&& body) noexcept {
  auto outcome = guard(where, std::forward<F>(body));
  if constexpr (std::is_same_v<decltype(outcome), Status>) {
    if (outcome.isOk()) return true;
    logToStderr(outcome);
  } else {
    if (outcome.isOk()) return true;
    logToStderr(outcome.status());
  }
  return false;
}

}  // namespace wop::common
