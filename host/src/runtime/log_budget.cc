#include "runtime/log_budget.h"

#include <algorithm>
#include <utility>

namespace wop::runtime {

LogBudget::LogBudget(const common::Clock& clock, LogBudgetLimits budget)
    : clock_(clock),
      limits_(budget),
      lines_(budget.lineBurst),
      bytes_(budget.byteBurst),
      last_(clock.now()),
      lastReport_(clock.now() - budget.reportEvery) {}

void LogBudget::refill() {
  const auto now = clock_.now();
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  lines_ = std::min(limits_.lineBurst, lines_ + elapsed * limits_.linesPerSecond);
  bytes_ = std::min(limits_.byteBurst, bytes_ + elapsed * limits_.bytesPerSecond);
}

LogBudget::Verdict LogBudget::admit(size_t bytes) {
  std::lock_guard lock(mutex_);
  refill();
  Verdict verdict;
  // A line longer than the byte burst could never pass: it is let through when the bucket is
  // full, paid as a debt (the ABI caps a line at WOP_MAX_LOG_BYTES anyway).
  const double cost = static_cast<double>(bytes);
  verdict.write = lines_ >= 1 && (bytes_ >= cost || bytes_ >= limits_.byteBurst);
  if (verdict.write) {
    lines_ -= 1;
    bytes_ -= cost;
  } else {
    unreported_++;
    droppedTotal_++;
  }
  const auto now = clock_.now();
  // At most one report per interval: while dropping, or with the next line after a flood.
  if (unreported_ > 0 && now - lastReport_ >= limits_.reportEvery) {
    verdict.reportDropped = std::exchange(unreported_, 0);
    lastReport_ = now;
  }
  return verdict;
}

uint64_t LogBudget::droppedTotal() const {
  std::lock_guard lock(mutex_);
  return droppedTotal_;
}

}  // namespace wop::runtime
