// Errors as values for all host code: Status says what went wrong, Result<T> carries a value
// or a Status. Nothing in the host throws across a host call, a thread or a C boundary.
#pragma once

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace wop::common {

enum class StatusCode {
  kOk,
  kInvalidArgument,     // the caller's input is malformed (a module, a config, a JSON body)
  kNotFound,            // a file, an export, an object that does not exist
  kFailedPrecondition,  // the input is well formed but not acceptable here (wrong ABI version)
  kResourceExhausted,   // a named limit was hit
  kDeadlineExceeded,    // a time limit was hit (epoch interruption, a request timeout)
  kUnavailable,         // a dependency (the API server, the disk) cannot be reached now
  kInternal,            // a broken invariant of our own or of a dependency
  kAborted,             // the guest trapped
  kDataLoss,            // stored data is missing, truncated or corrupt (a snapshot)
};

const char* statusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }

  bool isOk() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "<CodeName>: <message>", for logs and CLI output.
  std::string toString() const;

  // Returns a copy whose message is prefixed with context, e.g. "loading module x.wasm: ".
  Status withContext(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the error that explains why there is none (a Status unless a layer has a richer
// error type, e.g. kube::ApiError). Never holds an ok Status.
template <typename T, typename E = Status>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}
  Result(E error) : data_(std::move(error)) {
    if constexpr (std::is_same_v<E, Status>) assert(!std::get<Status>(data_).isOk());
  }

  bool isOk() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return isOk(); }

  // The error; only valid when !isOk().
  const E& error() const { return std::get<E>(data_); }

  // For Result<T, Status>: the Status, or Ok when there is a value.
  const Status& status() const
    requires std::is_same_v<E, Status>
  {
    static const Status kOkStatus;
    return isOk() ? kOkStatus : std::get<Status>(data_);
  }

  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, E> data_;
};

}  // namespace wop::common
