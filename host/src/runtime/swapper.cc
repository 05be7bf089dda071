#include "runtime/swapper.h"

namespace wop::runtime {
namespace {

// A prefetch with no room is tried again halfway to its change, down to this far from it.
constexpr auto kMinPrefetchRetry = std::chrono::milliseconds(1);

// After a failed swap-out (a full disk), how long before the next try.
constexpr auto kSwapRetryAfter = std::chrono::seconds(30);

WakePredictorOptions predictorOptions(std::chrono::milliseconds idleAfter,
                                      std::chrono::milliseconds settleAfter) {
  WakePredictorOptions options;
  options.idleAfter = idleAfter;
  options.settleAfter = settleAfter;
  return options;
}

}  // namespace

Swapper::Swapper(const common::Clock& clock, std::string folder, std::string identity,
                 std::chrono::milliseconds idleAfter, bool predict,
                 std::chrono::milliseconds settleAfter)
    : clock_(clock),
      snapshot_(std::move(folder), std::move(identity)),
      idleAfter_(idleAfter),
      predict_(predict),
      predictor_(predictorOptions(idleAfter, settleAfter)) {}

Swapper::~Swapper() { snapshot_.discard(); }

WakeKind Swapper::recordWake() {
  std::lock_guard lock(mutex_);
  predictor_.recordWake(clock_.now());
  if (prefetchRetryAt_ && swappedOut_) stats_.prefetchesSkipped++;  // never found room
  prefetchBlocked_ = false;                                         // a new prediction
  prefetchRetryAt_.reset();
  if (swappedOut_) {
    stats_.wakesSwapped++;
    return WakeKind::kSwapped;
  }
  stats_.wakesResident++;
  if (!prefetched_) return WakeKind::kResident;
  if (!prefetchHitCounted_) {
    stats_.prefetchHits++;
    prefetchHitCounted_ = true;
  }
  return WakeKind::kPrefetched;
}

bool Swapper::prefetchDue() const {
  if (!predict_) return false;
  const auto now = clock_.now();
  std::lock_guard lock(mutex_);
  if (prefetchBlocked_ || (prefetchRetryAt_ && now < *prefetchRetryAt_)) return false;
  const auto at = predictor_.prefetchAt();
  const auto wake = predictor_.predictedWake();
  return at && wake && *at <= now && *wake > now;
}

std::optional<common::TimePoint> Swapper::nextPrefetch() const {
  if (!predict_) return std::nullopt;
  std::lock_guard lock(mutex_);
  if (prefetchBlocked_) return std::nullopt;
  auto at = predictor_.prefetchAt();
  if (at && prefetchRetryAt_) at = std::max(*at, *prefetchRetryAt_);
  if (at && *at > clock_.now()) return at;
  return std::nullopt;
}

std::optional<common::TimePoint> Swapper::expectedWake() const {
  if (!predict_) return std::nullopt;
  std::lock_guard lock(mutex_);
  return predictor_.expectedWake();
}

std::optional<common::TimePoint> Swapper::skipPrefetch() {
  const auto now = clock_.now();
  std::lock_guard lock(mutex_);
  const auto wake = predictor_.predictedWake();
  if (!wake || *wake - now < 2 * kMinPrefetchRetry) {
    prefetchBlocked_ = true;  // too close to bother: the change restores it
    stats_.prefetchesSkipped++;
    prefetchRetryAt_.reset();
    return std::nullopt;
  }
  // Halfway to the change: a window wider than the budget holds fills with those due sooner,
  // and they leave as the ring reaches them. Skipped for good, as this was at first, the
  // operator restored on its change and sent out a prefetched one due after it, which then did
  // the same: in the ring at N = 1000 at the defaults, 1,218 prefetches skipped, 5,085 of 8,781
  // done sent out unused.
  prefetchRetryAt_ = now + (*wake - now) / 2;
  return prefetchRetryAt_;
}

common::Result<Swapper::Restored> Swapper::restore(GuestFactory& factory,
                                                   hostcalls::OperatorServices& services,
                                                   bool prefetch) {
  const auto started = clock_.now();
  auto plan = snapshot_.open();
  if (!plan) return plan.status();
  // Small layers (deltas, small memories) are checked before the guest runs on them.
  if (auto checked =
          snapshot::OperatorSnapshot::verifyData(*plan, snapshot::VerifyScope::kBeforeRun);
      !checked.isOk()) {
    return checked;
  }
  auto guest = factory.restore(services, snapshot_, *plan);
  if (!guest) return guest.status();
  restoredFromChain_ = true;
  prefetched_ = prefetch;
  swappedOut_ = false;
  idleSince_.reset();
  {
    std::lock_guard lock(mutex_);
    stats_.restores++;
    if (prefetch) stats_.prefetches++;
    prefetchHitCounted_ = false;
    stats_.lastRestoreMs =
        std::chrono::duration<double, std::milli>(clock_.now() - started).count();
    stats_.restoreMsTotal += stats_.lastRestoreMs;
  }
  return Restored{std::move(*guest), std::make_shared<snapshot::RestorePlan>(std::move(*plan))};
}

common::Status Swapper::checkRest(const snapshot::RestorePlan& plan) {
  // Bigger layers are checked after the guest is back: reading them whole on its path would
  // make restore time grow with memory size. The plan keeps the files open.
  return snapshot::OperatorSnapshot::verifyData(plan, snapshot::VerifyScope::kAfterRun);
}

Swapper::IdleCheck Swapper::idle() {
  const auto now = clock_.now();
  if (!idleSince_) idleSince_ = now;
  IdleCheck check;
  common::TimePoint checkAt;
  if (now < retryAt_) {
    checkAt = retryAt_;
  } else if (predict_) {
    std::lock_guard lock(mutex_);
    check.swapNow = predictor_.shouldSwapOut(*idleSince_, now);
    checkAt = predictor_.swapOutCheckAt(*idleSince_, now);
  } else {
    check.swapNow = now - *idleSince_ >= idleAfter_;
    checkAt = *idleSince_ + idleAfter_;
  }
  // One timer per check time: idle slices would otherwise each ask for one.
  if (!check.swapNow && checkAt > now && checkAt != checkAt_) {
    checkAt_ = checkAt;
    check.checkAgainAt = checkAt;
  }
  return check;
}

Swapper::SwapOutResult Swapper::swapOut(OperatorGuest& guest, bool forBudget) {
  const auto started = clock_.now();
  auto saved = guest.saveTo(snapshot_, restoredFromChain_);
  if (guest.memoryFaulted() || (!saved && saved.status().code() == common::StatusCode::kDataLoss)) {
    // The save read memory whose snapshot file shrank: what it wrote is not the guest's state.
    return {SwapOut::kLostMemory, {}, {}, 0};
  }
  if (!saved) {
    // A full disk costs memory, not correctness: the operator stays resident and tries later.
    retryAt_ = started + kSwapRetryAfter;
    return {SwapOut::kStayResident, saved.status().message(), {}, 0};
  }
  swappedOut_ = true;
  const bool prefetched = prefetched_.exchange(false);
  idleSince_.reset();
  const double ms = std::chrono::duration<double, std::milli>(clock_.now() - started).count();
  {
    std::lock_guard lock(mutex_);
    if (prefetched && !prefetchHitCounted_) {
      stats_.prefetchesWasted++;
      // Whose doing: the budget's (room for others), or the prediction's (the change came
      // later than its window, or not at all).
      if (forBudget) stats_.prefetchesSentOutByBudget++;
      // One prefetch per predicted change: sent out unused (the budget needed the room, or the
      // change is late), the next restore is the change's own. Prefetching again and again
      // for one change is restores and swap-outs for nothing.
      prefetchBlocked_ = true;
    }
    stats_.swapOuts++;
    stats_.snapshotBytes = saved->bytesWritten;
    stats_.lastSwapOutMs = ms;
    stats_.swapOutMsTotal += ms;
  }
  std::string what = std::string(saved->full ? "full" : "delta") + ", " +
                     std::to_string(saved->bytesWritten >> 10) + " KiB written, " +
                     std::to_string(saved->layers) + " layer(s)";
  return {SwapOut::kSwapped, std::move(what), saved->recreatedFolder, ms};
}

void Swapper::freshInstance() {
  restoredFromChain_ = false;
  prefetched_ = false;
  swappedOut_ = false;
  idleSince_.reset();
}

void Swapper::discardAfterFault() {
  snapshot_.discard();
  freshInstance();
  std::lock_guard lock(mutex_);
  stats_.snapshotFaults++;
}

SwapStats Swapper::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace wop::runtime
