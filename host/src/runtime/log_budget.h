// One operator's log budget (DESIGN.md principle 9): a token bucket on lines and one on bytes
// (limits.h kOperatorLog*). A line that finds either bucket short is dropped and counted; the
// count is reported at most once per interval (while it drops, or with its next line after),
// so a flooding operator costs the log its budget plus one line a second.
//
// Thread-safety: admit() may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>

#include "common/clock.h"
#include "common/limits.h"

namespace wop::runtime {

struct LogBudgetLimits {
  double linesPerSecond = limits::kOperatorLogLinesPerSecond;
  double lineBurst = limits::kOperatorLogLineBurst;
  double bytesPerSecond = limits::kOperatorLogBytesPerSecond;
  double byteBurst = limits::kOperatorLogByteBurst;
  common::Duration reportEvery = std::chrono::seconds(1);
};

class LogBudget {
 public:
  explicit LogBudget(const common::Clock& clock, LogBudgetLimits budget = {});

  struct Verdict {
    bool write = false;
    // Lines dropped since the last report, to be reported now (before this line, if written);
    // zero when there is nothing to report yet.
    uint64_t reportDropped = 0;
  };
  // A line of `bytes` bytes wants to be written.
  Verdict admit(size_t bytes);
  uint64_t droppedTotal() const;

 private:
  void refill();

  const common::Clock& clock_;
  const LogBudgetLimits limits_;
  mutable std::mutex mutex_;
  double lines_;
  double bytes_;
  common::TimePoint last_;
  common::TimePoint lastReport_;
  uint64_t unreported_ = 0;
  uint64_t droppedTotal_ = 0;
};

}  // namespace wop::runtime
