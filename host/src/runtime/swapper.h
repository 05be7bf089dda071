// Swapping one idle operator to disk and back (docs/swap.md): when to swap out (idle long
// enough, unless the wake predictor expects a change soon), the snapshot chain, restores
// (ahead of a predicted change: a prefetch) and the figures of it all. The operator does the
// rest: it drops or adopts the guest instance the swapper saved or restored.
//
// Thread-safety: recordWake and swappedOut from any thread (a change arrives on the I/O
// thread); everything else on the operator's worker, between entries into its guest.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/status.h"
#include "hostcalls/operator_services.h"
#include "runtime/operator_environment.h"
#include "runtime/operator_guest.h"
#include "runtime/wake_predictor.h"
#include "snapshot/operator_snapshot.h"

namespace wop::runtime {

struct SwapStats {
  uint64_t swapOuts = 0;
  uint64_t restores = 0;  // of which prefetches: restored ahead of a predicted change
  uint64_t prefetches = 0;
  uint64_t prefetchHits = 0;      // prefetches a change then found resident (the rest were early)
  uint64_t prefetchesWasted = 0;  // prefetches swapped out again before any change came
  uint64_t prefetchesSentOutByBudget = 0;  // of those, sent out by the memory budget alone
  uint64_t prefetchesSkipped = 0;  // predicted changes not prefetched: no room found in time
  uint64_t snapshotFaults = 0;     // unusable snapshots: restarted fresh instead
  uint64_t snapshotBytes = 0;      // data written by the last swap-out
  uint64_t wakesResident = 0;      // changes that found the guest resident
  uint64_t wakesSwapped = 0;       // changes that had to restore it
  double lastRestoreMs = 0;
  double lastSwapOutMs = 0;
  // Summed over every restore and swap-out: with the counts, the means a benchmark reports
  // (the histograms on /metrics hold the same, bucketed, but a status file has no buckets).
  double restoreMsTotal = 0;
  double swapOutMsTotal = 0;
};

class Swapper {
 public:
  // folder: this operator's own snapshot folder; identity: the module's (GuestFactory).
  // settleAfter: with predict, the early swap-out (WakePredictorOptions::settleAfter); 0: off.
  Swapper(const common::Clock& clock, std::string folder, std::string identity,
          std::chrono::milliseconds idleAfter, bool predict,
          std::chrono::milliseconds settleAfter = std::chrono::milliseconds(0));
  ~Swapper();  // removes the snapshot files

  // A change queued a key at now: how it found the guest.
  WakeKind recordWake();
  bool swappedOut() const { return swappedOut_; }

  // The predictor expects a change soon and the guest is still on disk.
  bool prefetchDue() const;
  // When a prefetch will be due, if it is in the future.
  std::optional<common::TimePoint> nextPrefetch() const;
  // The due prefetch found no room: returns when to try again (halfway to the predicted
  // change), or nullopt when that is too close (then none until the next change, as after a
  // prefetch swapped out unused).
  std::optional<common::TimePoint> skipPrefetch();
  // The predictor's best guess of the next change (WakePredictor::expectedWake); nullopt
  // without prediction or before it has an interval.
  std::optional<common::TimePoint> expectedWake() const;

  struct Restored {
    std::unique_ptr<OperatorGuest> guest;
    // Layers too big to check before the guest runs; check them off its path (checkRest).
    std::shared_ptr<snapshot::RestorePlan> plan;
  };
  // The guest from its snapshot; an error is a snapshot fault (the caller starts afresh).
  common::Result<Restored> restore(GuestFactory& factory, hostcalls::OperatorServices& services,
                                   bool prefetch);
  static common::Status checkRest(const snapshot::RestorePlan& plan);

  // The operator had work in this slice.
  void busy() { idleSince_.reset(); }
  struct IdleCheck {
    bool swapNow = false;
    std::optional<common::TimePoint> checkAgainAt;  // set once per check time
  };
  // The operator is idle now (nothing queued, in flight or pending).
  IdleCheck idle();

  enum class SwapOut { kSwapped, kStayResident, kLostMemory };
  struct SwapOutResult {
    SwapOut outcome;
    std::string message;  // why it stays resident, or what the save did (for the log)
    std::string recreatedFolder;
    double ms = 0;
  };
  // Saves the guest (the caller drops it when kSwapped).
  // forBudget: the memory budget asked for it before the operator's own idle rules did.
  SwapOutResult swapOut(OperatorGuest& guest, bool forBudget);

  // A fresh instance runs: its memory is not the chain's.
  void freshInstance();
  // The snapshot could not be used: it is discarded and counted.
  void discardAfterFault();
  SwapStats stats() const;

 private:
  const common::Clock& clock_;
  snapshot::OperatorSnapshot snapshot_;
  const std::chrono::milliseconds idleAfter_;
  const bool predict_;
  // Worker only:
  bool restoredFromChain_ = false;  // the live guest's memory is the snapshot chain's mapping
  std::optional<common::TimePoint> idleSince_;
  common::TimePoint retryAt_{};  // after a failed swap-out
  common::TimePoint checkAt_{};  // the swap-out check already asked for
  // Shared:
  std::atomic<bool> swappedOut_{false};
  std::atomic<bool> prefetched_{false};  // restored ahead of a prediction, no swap-out since
  bool prefetchHitCounted_ = false;      // guarded by mutex_
  // No (more) prefetch until the next change: one was sent out unused, or no room was found
  // close to the change. Guarded by mutex_, as is:
  bool prefetchBlocked_ = false;
  std::optional<common::TimePoint> prefetchRetryAt_;  // no room: not before then
  mutable std::mutex mutex_;                          // guards the predictor and the stats
  WakePredictor predictor_;
  SwapStats stats_;
};

}  // namespace wop::runtime
