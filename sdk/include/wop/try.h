// WOP_CO_TRY and WOP_CO_CHECK: a failed read or call ends the reconcile with its error in one
// line, the way `?` does in Rust and `if err != nil { return ctrl.Result{}, err }` in Go:
//
//   WOP_CO_TRY(auto source, ctx.client.get(kinds::ConfigMap, req.ns, req.name));
//   if (source.notFound()) co_return Result::done();        // absence is a value, not a failure
//   WOP_CO_TRY(Response created, co_await ctx.client.create(copy));
//   WOP_CO_CHECK(co_await ctx.client.patchStatus(*source, statusPatch));
//
// What counts as failed (detail::tryError):
//   ReadResult<T>  failed(): the host could not answer. notFound() is NOT a failure.
//   Response       anything but 2xx (a 404 or 409 too; test those yourself when they matter).
//   Other types    any that has a `tryError(const X&)` overload in namespace wop::sdk::detail
//                  (createOrUpdate's OperationResult has one).
// On failure the enclosing coroutine, which must return Task<Result>, does
// `co_return Result::error(message)` (retried with backoff). WOP_CO_TRY declares `decl` with the
// value (moved); WOP_CO_CHECK only checks. Both are statements: use them where a declaration may
// stand, not as expressions (C++ has no statement expressions in coroutines).
#pragma once

#include <optional>
#include <string>

#include "wop/read_result.h"
#include "wop/response.h"
#include "wop/result.h"

namespace wop::sdk::detail {

template <typename T>
std::optional<std::string> tryError(const ReadResult<T>& read) {
  if (read.failed()) return read.error();
  return std::nullopt;
}

inline std::optional<std::string> tryError(const Response& response) {
  if (response.ok()) return std::nullopt;
  return response.errorMessage();
}

}  // namespace wop::sdk::detail

#define WOP_TRY_CONCAT_INNER(a, b) a##b
#define WOP_TRY_CONCAT(a, b) WOP_TRY_CONCAT_INNER(a, b)

// `holder` keeps the value under a name of its own (wopTry<n>), so several WOP_CO_TRY may
// stand in one scope; the error lives only in its `if`.
#define WOP_CO_TRY_IMPL(decl, holder, ...)                                  \
  auto holder = (__VA_ARGS__);                                              \
  if (auto wopTryError = ::wop::sdk::detail::tryError(holder); wopTryError) \
    co_return ::wop::sdk::Result::error(std::move(*wopTryError));           \
  decl = std::move(holder)

// The expression may contain commas (it is the rest of the arguments).
#define WOP_CO_TRY(decl, ...) \
  WOP_CO_TRY_IMPL(decl, WOP_TRY_CONCAT(wopTry, __COUNTER__), __VA_ARGS__)

#define WOP_CO_CHECK(...)                                                            \
  do {                                                                               \
    if (auto wopTryError = ::wop::sdk::detail::tryError((__VA_ARGS__)); wopTryError) \
      co_return ::wop::sdk::Result::error(std::move(*wopTryError));                  \
  } while (false)
