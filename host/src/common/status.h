// Errors as values for all host code: Status says what went wrong, Result<T> carries a value
// or a Status. Nothing in the host throws across a host call, a thread or a C boundary.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace wop::common {

enum class StatusCode {
  kOk,
  kInvalidArgument,    // the caller's input is malformed (a module, a config, a JSON body)
  kNotFound,           // a file, an export, an object that does not exist
  kFailedPrecondition, // the input is well formed but not acceptable here (wrong ABI version)
  kResourceExhausted,  // a named limit was hit
  kDeadlineExceeded,   // a time limit was hit (epoch interruption, a request timeout)
  kUnavailable,        // a dependency (the API server, the disk) cannot be reached now
  kInternal,           // a broken invariant of our own or of a dependency
  kAborted,            // the guest trapped
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

// A value or the Status that explains why there is none. Never holds an ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}
  Result(Status status) : data_(std::move(status)) { assert(!std::get<Status>(data_).isOk()); }

  bool isOk() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return isOk(); }

  const Status& status() const {
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
  std::variant<T, Status> data_;
};

}  // namespace wop::common
