// One operator's figures for the metrics endpoint, kept where they happen (the work queues,
// the controllers, the swapper) with relaxed atomics, and read by a scrape without a lock.
// The names they become follow controller-runtime and client-go's workqueue, so dashboards and
// alerts written for Go operators work unchanged (server/metrics_exposition.cc).
//
// Lifetime: shared by the operator and its queues; a scrape holds it while it reads.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/histogram.h"

namespace wop::runtime {

// client-go's workqueue metrics, for all of an operator's queues together.
struct WorkQueueMetrics {
  std::atomic<int64_t> depth{0};     // keys ready now (workqueue_depth)
  std::atomic<uint64_t> adds{0};     // keys that became ready (workqueue_adds_total)
  std::atomic<uint64_t> retries{0};  // rate-limited requeues (workqueue_retries_total)
  common::Histogram queueSeconds{common::workQueueDurationBuckets()};  // ready -> popped
  common::Histogram workSeconds{common::workQueueDurationBuckets()};   // popped -> done
};

struct OperatorMetrics {
  // controller_runtime_reconcile_total{result}: success, error, requeue, requeue_after.
  std::atomic<uint64_t> reconcileSuccess{0};
  std::atomic<uint64_t> reconcileError{0};  // terminal errors included, as controller-runtime
  // Of those errors, the terminal ones (WOP_RECONCILE_TERMINAL, not retried):
  // controller_runtime_terminal_reconcile_errors_total.
  std::atomic<uint64_t> reconcileTerminalError{0};
  std::atomic<uint64_t> reconcileRequeue{0};
  std::atomic<uint64_t> reconcileRequeueAfter{0};
  // From the guest's entry with the key to its wop_reconcile_done (API waits included, as a Go
  // Reconcile's duration includes its client calls).
  common::Histogram reconcileSeconds{common::reconcileTimeBuckets()};
  std::atomic<int64_t> activeReconciles{0};  // controller_runtime_active_workers
  WorkQueueMetrics queue;
  // Ours.
  common::Histogram restoreSeconds{common::swapDurationBuckets()};
  common::Histogram swapOutSeconds{common::swapDurationBuckets()};
  std::atomic<uint64_t> traps{0};  // entries that trapped, timed out or broke the contract
};

}  // namespace wop::runtime
