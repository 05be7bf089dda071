// Request and Result: what a reconcile gets and what it returns (controller-runtime's
// Request and Result+error in one value).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wop::sdk {

// The key of the object to reconcile. Cluster-scoped objects have an empty ns.
struct Request {
  std::string ns;
  std::string name;

  // "ns/name" -> {ns, name}; "name" (no slash) -> {"", name}.
  static Request fromKey(std::string_view key);
  std::string key() const { return ns.empty() ? name : ns + "/" + name; }
};

class Result {
 public:
  enum class Kind { kDone, kRequeueAfter, kError, kTerminal };

  // Success: forget the key until something changes.
  static Result done() { return Result(Kind::kDone, 0, {}); }
  // Success, but look again after `ms` milliseconds.
  static Result requeueAfter(int64_t ms) { return Result(Kind::kRequeueAfter, ms, {}); }
  // Failure: the host retries with per-key exponential backoff, waiting at least minDelayMs.
  static Result error(std::string message, int64_t minDelayMs = 0) {
    return Result(Kind::kError, minDelayMs, std::move(message));
  }
  // Failure that retrying cannot fix (an invalid spec, a missing reference the user must
  // create): logged as an error and counted, but not retried; the key waits for a change of
  // what it watches (controller-runtime's reconcile.TerminalError).
  static Result terminal(std::string message) {
    return Result(Kind::kTerminal, 0, std::move(message));
  }

  Kind kind() const { return kind_; }
  int64_t delayMs() const { return delayMs_; }
  const std::string& message() const { return message_; }
  // An error, terminal or not.
  bool isError() const { return kind_ == Kind::kError || kind_ == Kind::kTerminal; }
  bool isTerminal() const { return kind_ == Kind::kTerminal; }

 private:
  Result(Kind kind, int64_t delayMs, std::string message)
      : kind_(kind), delayMs_(delayMs), message_(std::move(message)) {}
  Kind kind_;
  int64_t delayMs_;
  std::string message_;
};

}  // namespace wop::sdk
