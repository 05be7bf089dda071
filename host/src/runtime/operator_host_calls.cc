// The operator's side of ABI v1's host calls: each goes to the part that owns it (the
// supervisor, the controllers, the API calls, the cache reads), plus the operator's figures.
#include "common/limits.h"
#include "runtime/cache_reads.h"
#include "runtime/operator.h"
#include "wop_abi.h"

namespace wop::runtime {

using hostcalls::HostCallError;

void Operator::log(int32_t level, std::string_view message) {
  // Lines written while the guest is inside wop_reconcile carry its key and reconcile ID, as
  // controller-runtime's per-reconcile logger does.
  LogFields fields;
  {
    std::lock_guard lock(reconcileLogMutex_);
    if (currentReconcile_) {
      fields = {{"key", currentReconcile_->key},
                {"reconcileID", std::to_string(currentReconcile_->id)}};
    }
  }
  log(level, message, fields);
}

void Operator::log(int32_t level, std::string_view message, const LogFields& fields) {
  // Every line on the operator's behalf (its own, and the host's about it) comes from its
  // budget, so a flood slows only its own log.
  const auto verdict = logBudget_.admit(message.size());
  if (verdict.reportDropped > 0) {
    log_(WOP_LOG_WARN,
         std::to_string(verdict.reportDropped) +
             " log line(s) dropped: the operator logs more than its budget of " +
             std::to_string(static_cast<int>(limits::kOperatorLogLinesPerSecond)) +
             " lines a second",
         {});
  }
  if (verdict.write) log_(level, std::string(message), fields);
}

hostcalls::HostResult<uint32_t> Operator::httpCall(std::string_view requestJson) {
  return http_->call(requestJson);
}

hostcalls::HostResult<int32_t> Operator::declare(std::string_view json) {
  return supervisor_.declare(json);
}

hostcalls::HostResult<std::string> Operator::cacheRead(std::string_view requestJson) {
  if (!controllers_)
    return HostCallError{WOP_ERR_BAD_STATE, "the cache is not readable during wop_init"};
  return readCache(*controllers_, requestJson);
}

hostcalls::HostResult<uint32_t> Operator::apiCall(std::string_view requestJson) {
  return calls_->call(requestJson);
}

hostcalls::HostResult<int32_t> Operator::reconcileDone(uint32_t reconcileId, int32_t outcome,
                                                       int64_t requeueAfterMs,
                                                       std::string_view message) {
  auto finished = controllers_->finish(reconcileId, outcome, requeueAfterMs);
  switch (finished.result) {
    case Controllers::Finish::kUnknownId:
      return HostCallError{WOP_ERR_NOT_FOUND,
                           "no reconcile " + std::to_string(reconcileId) + " in flight"};
    case Controllers::Finish::kUnknownOutcome:
      return HostCallError{WOP_ERR_INVALID_ARGUMENT, "unknown outcome " + std::to_string(outcome)};
    case Controllers::Finish::kDone:
    case Controllers::Finish::kNegativeDelay:
      break;
  }
  {
    std::lock_guard lock(mutex_);
    stats_.reconciles++;
    if (outcome == WOP_RECONCILE_ERROR || outcome == WOP_RECONCILE_TERMINAL)
      stats_.reconcileErrors++;
  }
  if (outcome == WOP_RECONCILE_ERROR) {
    log(WOP_LOG_WARN, "reconcile failed: " + std::string(message),
        {{"key", finished.key}, {"reconcileID", std::to_string(reconcileId)}});
  } else if (outcome == WOP_RECONCILE_TERMINAL) {
    // Nobody retries it: the line is all a user gets, so it is an error, not a warning.
    log(WOP_LOG_ERROR, "reconcile failed terminally, not retried: " + std::string(message),
        {{"key", finished.key}, {"reconcileID", std::to_string(reconcileId)}});
  }
  if (finished.result == Controllers::Finish::kNegativeDelay) {
    return HostCallError{WOP_ERR_INVALID_ARGUMENT,
                         "requeue_after_ms " + std::to_string(requeueAfterMs) +
                             " is negative; the key is retried with backoff"};
  }
  return WOP_OK;
}

hostcalls::HostResult<int32_t> Operator::emitKey(std::string_view key) {
  return supervisor_.emitKey(key);
}

void Operator::contractViolation(std::string what) {
  supervisor_.contractViolation(std::move(what));
}

OperatorStats Operator::stats() const {
  std::lock_guard lock(mutex_);
  OperatorStats stats = stats_;
  if (swapper_) static_cast<SwapStats&>(stats) = swapper_->stats();
  stats.state = supervisor_.state();
  stats.logLinesDropped = logBudget_.droppedTotal();
  stats.apiCalls = calls_ ? calls_->calls() : 0;
  stats.httpCalls = http_ ? http_->calls() : 0;
  stats.swappedOut = swapper_ && swapper_->swappedOut();
  if (!stats.swappedOut && stats.state == OperatorState::kRunning) {
    stats.residentSeconds +=
        std::chrono::duration<double>(env_.clock.now() - residentSince_).count();
  }
  if (controllers_) {
    stats.queuedKeys = controllers_->queuedKeys();
    stats.cachesSynced = controllers_->synced();
  }
  return stats;
}

}  // namespace wop::runtime
