// ReadResult<T>: the answer of a cache read (Client::get, Client::list). Three cases, and a
// reconcile must tell them apart:
//
//   auto source = ctx.client.get(kind, req.ns, req.name);
//   if (source.failed()) co_return Result::error(source.error());   // retried with backoff
//   if (source.notFound()) co_return Result::done();                 // really gone
//   use(*source);
//
// - found:    the value (`*r`, `r->`, `r.value()`).
// - notFound: the object does not exist (in the cache). A value, not an error.
// - failed:   the host could not answer (WOP_ERR_FORBIDDEN: the kind, namespace or selector is
//             not declared; WOP_ERR_UNAVAILABLE: the cache is not synced yet; WOP_ERR_LIMIT;
//             or an answer that is not JSON). Nothing is known about the object: acting as if
//             it were absent could delete what should be kept, so return an error and let the
//             key be retried.
//
// There is deliberately no conversion to bool: `if (!obj)` would not say which case it means.
// On notFound or failed, `*r` is an empty T (null json, no items), never undefined.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "wop_abi.h"

namespace wop::sdk {

template <typename T>
class [[nodiscard]] ReadResult {
 public:
  static ReadResult of(T value) { return ReadResult(WOP_OK, std::move(value), {}); }
  static ReadResult absent() { return ReadResult(WOP_ERR_NOT_FOUND, T{}, {}); }
  // status: a negative wop_status other than WOP_ERR_NOT_FOUND.
  static ReadResult failure(int32_t status, std::string message) {
    return ReadResult(status, T{}, std::move(message));
  }

  bool found() const { return status_ == WOP_OK; }
  bool notFound() const { return status_ == WOP_ERR_NOT_FOUND; }
  bool failed() const { return !found() && !notFound(); }
  // WOP_OK, WOP_ERR_NOT_FOUND or the failure's wop_status.
  int32_t status() const { return status_; }
  // What failed, for Result::error and logs; "" unless failed().
  const std::string& error() const { return error_; }

  T& value() & { return value_; }
  const T& value() const& { return value_; }
  T&& value() && { return std::move(value_); }
  T& operator*() & { return value_; }
  const T& operator*() const& { return value_; }
  T* operator->() { return &value_; }
  const T* operator->() const { return &value_; }

 private:
  ReadResult(int32_t status, T value, std::string error)
      : status_(status), value_(std::move(value)), error_(std::move(error)) {}
  int32_t status_;
  T value_;
  std::string error_;
};

}  // namespace wop::sdk
