// What an operator's parts get from the host, as interfaces, so that each part can run in a
// unit test on virtual time with fakes: the parts never see OperatorHost. The host implements
// the scheduler and the background runner; tests implement all of them.
//
//   OperatorHost ──owns──> Operator ──owns──> Controllers, GuestSupervisor, ApiCalls, Swapper
//        │                    │
//        └─implements─> OperatorScheduler, BackgroundJobs, LogSink  <──uses── (every part)
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cache/shared_informers.h"
#include "common/clock.h"
#include "common/timers.h"
#include "kube/client.h"
#include "outbound/outbound_client.h"
#include "runtime/lifecycle_listener.h"
#include "runtime/work_queue.h"

namespace wop::runtime {

class MemoryBudget;
class Operator;

// Puts an operator on the run queue (a worker then calls its runSlice()). Any thread.
class OperatorScheduler {
 public:
  virtual ~OperatorScheduler() = default;
  virtual void schedule(const std::shared_ptr<Operator>& op) = 0;
};

// Runs jobs in order on one background thread (snapshot checks), off every operator's path.
class BackgroundJobs {
 public:
  virtual ~BackgroundJobs() = default;
  virtual void run(std::function<void()> job) = 0;
};

// How a change found its operator: resident, swapped out (restored on the way to the reconcile),
// or resident because a prediction restored it ahead of the change.
enum class WakeKind { kResident, kSwapped, kPrefetched };
enum class SwapEvent { kSwapOut, kRestore };

// Figures for benchmarks. Nothing is stamped unless an observer asks for latencies, so the hot
// path of a host without one does no bookkeeping for them.
class OperatorObserver {
 public:
  virtual ~OperatorObserver() = default;
  virtual bool wantsLatency() const { return false; }
  // From the informer event that queued a key to the start of the worker's slice that reconciled
  // it (0 when the key came while that slice ran): the wait for a worker, alone.
  virtual void changeToWorker(double ms, WakeKind kind) {
    (void)ms;
    (void)kind;
  }
  // From the informer event that queued a key to the start of its reconcile.
  virtual void changeToReconcile(double ms, WakeKind kind) {
    (void)ms;
    (void)kind;
  }
  // From the same event to the return of the reconcile entry it woke: the host's own part of a
  // wake-up up to the guest's writes (a restore and the entry's page faults included; the API
  // server's part, before the event, and the sending of the writes the entry issued, not).
  virtual void changeReconciled(double ms, WakeKind kind) {
    (void)ms;
    (void)kind;
  }
  virtual void swapped(SwapEvent event, double ms) {
    (void)event;
    (void)ms;
  }
};

// Subscribes handlers to the informer of key (cache::SharedInformers::subscribe in the host; a
// fake that keeps the handlers in tests, which then play the informer).
using Subscribe = std::function<cache::Subscription(const cache::InformerKey&, cache::Handlers)>;

// Structured fields of a log line beyond its operator and message (key, reconcileID).
using LogFields = std::vector<std::pair<std::string, std::string>>;

// One operator's log line (level WOP_LOG_*); the host escapes and writes it.
using OperatorLog =
    std::function<void(int32_t level, const std::string& message, const LogFields& fields)>;

// The host-wide settings an operator's parts read.
struct OperatorSettings {
  std::chrono::milliseconds restartBackoffBase{1000};
  std::chrono::milliseconds restartBackoffMax{300'000};
  bool checkPermissions = true;  // SubjectAccessReview of every declared watch at start
  RateLimits queueLimits;
  // Swapping: the host's defaults (an operator's spec may override enabled and idleAfter).
  bool swapEnabled = false;
  std::chrono::milliseconds swapIdleAfter{2000};
  bool swapPredict = true;
  std::chrono::milliseconds swapSettleAfter{0};  // SwapOptions::settleAfter
  std::string snapshotDirectory;                 // empty: swapping is off for every operator
  // A swapped-out operator still out after this is reported (LifecycleChange::kSwappedOut).
  // Operators swap out after 2 s idle by default, so a swap-out is routine; one that lasts
  // 10 minutes means nothing it watches changed for that long. Longer than client-go's
  // 6-minute Event series window and twice the Event spam filter's refill period, so these
  // reports alone never use up an operator's Event budget.
  std::chrono::milliseconds swappedOutEventAfter{600'000};
};

struct OperatorEnvironment {
  // False while the host must not start reconciles: a follower under leader election, or a
  // replica not holding the operator's shard (its informers and queues stay warm), or a host
  // shutting down. Answers to calls in flight are
  // still delivered, so reconciles already started can finish.
  const std::atomic<bool>& takingKeys;
  const common::Clock& clock;
  common::Timers& timers;
  kube::Client& client;
  Subscribe subscribe;
  OperatorScheduler& scheduler;
  BackgroundJobs& background;
  OperatorObserver& observer;
  OperatorSettings settings;
  // Lifecycle changes (runtime/lifecycle_listener.h); null: nobody listens.
  LifecycleListener* lifecycle = nullptr;
  // Operators' outbound HTTP requests (wop_http_call); null: the host makes none.
  outbound::OutboundClient* outbound = nullptr;
  // The host's budget of resident guest memory (SwapOptions::memoryBudgetBytes); null: none.
  MemoryBudget* memoryBudget = nullptr;
};

}  // namespace wop::runtime
