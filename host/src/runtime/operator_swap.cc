// The operator's side of swapping (the swapper decides and saves; this drops and adopts the
// guest). All of it runs on the worker that runs the operator's slice, between entries into
// its guest, so no Wasm frame is live and the guest's whole state is its linear memory and
// exported globals.
//
//  - An operator with nothing queued, nothing in flight and no API call pending for its idle
//    period (and that the predictor does not expect to be woken again soon) is swapped out.
//  - When a key becomes due or a predicted wake-up is near, a fresh instance gets the snapshot
//    mapped copy-on-write over its memory.
//  - A snapshot that cannot be used (missing, truncated, corrupt, another module) means a fresh
//    instance and every key queued again: reconciles are level-triggered, so nothing is lost.
#include "runtime/operator.h"
#include "wop_abi.h"

namespace wop::runtime {

bool Operator::swapIn(bool prefetch) {
  const auto started = env_.clock.now();
  {
    std::lock_guard lock(mutex_);
    swappedOutSince_.reset();  // restored, or restarted afresh when the snapshot fails
  }
  // A request to go that came during the last swap-out (another worker's report still counted
  // this operator resident) was for the residency that ended. Kept, it sent prefetches straight
  // back out unused: in the ring at N = 1000 at the defaults, 6,773 of 9,147 prefetches.
  evictionRequested_.store(false);
  auto restored = swapper_->restore(*guests_, *this, prefetch);
  if (!restored) {
    restartFromSnapshotFault("cannot restore from its snapshot: " + restored.status().message());
    return supervisor_.state() == OperatorState::kRunning;
  }
  supervisor_.adopt(std::move(restored->guest));
  {
    std::lock_guard lock(mutex_);
    residentSince_ = started;
  }
  // A restore (for an event, or a prefetch ahead of a predicted one) is a use: without a
  // predicted wake the memory budget must not send a prefetched operator straight back out as
  // the least recently active.
  lastActive_ = started;
  const double restoreMs = swapper_->stats().lastRestoreMs;
  metrics_->restoreSeconds.observe(restoreMs / 1000);
  env_.observer.swapped(SwapEvent::kRestore, restoreMs);
  std::weak_ptr<Operator> weak = weak_from_this();
  env_.background.run([weak, plan = std::move(restored->plan), instance = instance_] {
    auto status = Swapper::checkRest(*plan);
    if (status.isOk()) return;
    auto self = weak.lock();
    if (!self) return;
    {
      std::lock_guard lock(self->mutex_);
      self->snapshotFault_ = {instance, status.message()};
    }
    self->wake();
  });
  return true;
}

bool Operator::takeSnapshotFault() {
  std::optional<std::pair<uint64_t, std::string>> fault;
  {
    std::lock_guard lock(mutex_);
    fault.swap(snapshotFault_);
  }
  // A fault of a restore before the last fresh start no longer matters.
  if (!fault || fault->first != instance_) return false;
  restartFromSnapshotFault("ran from a corrupt snapshot: " + fault->second);
  return true;
}

void Operator::restartFromSnapshotFault(const std::string& reason) {
  log(WOP_LOG_WARN, reason + "; starting from a fresh instance and queueing every key again");
  swapper_->discardAfterFault();
  dropInstance();
  (void)startInstance(/*wait=*/false);  // requeues every key (or fails into the backoff)
}

void Operator::considerSwapOut(bool idle) {
  if (!swapper_ || swapper_->swappedOut() || !supervisor_.guest() ||
      supervisor_.state() != OperatorState::kRunning) {
    return;
  }
  if (!idle) {
    swapper_->busy();
    evictionRequested_.store(false);  // busy: the budget asks again if it must
    return;
  }
  // The memory budget asks those due furthest ahead to go before their idle period ends.
  const bool evict = evictionRequested_.exchange(false);
  const auto check = swapper_->idle();
  if (check.checkAgainAt) wakeAt(*check.checkAgainAt);
  if (!check.swapNow && !evict) return;
  const auto result = swapper_->swapOut(*supervisor_.guest(), /*forBudget=*/!check.swapNow);
  switch (result.outcome) {
    case Swapper::SwapOut::kLostMemory:
      restartFromSnapshotFault(std::string("swap-out ") + kLostSnapshotMemory);
      return;
    case Swapper::SwapOut::kStayResident:
      log(WOP_LOG_WARN, "staying resident: cannot swap out: " + result.message);
      return;
    case Swapper::SwapOut::kSwapped:
      break;
  }
  if (!result.recreatedFolder.empty()) {
    log(WOP_LOG_WARN,
        "the snapshot folder " + result.recreatedFolder + " had been removed; made it again");
  }
  // What a restore will hold again (a prefetch asks the memory budget for that much room).
  lastResidentBytes_ = supervisor_.guest()->memoryBytes() + guests_->residentCodeBytes();
  supervisor_.drop();  // drops the store: the memory goes back to the system
  // And the compiled code, unless another operator runs the same module; parked modules are
  // kept for the operators due back soonest.
  guests_->releaseCode({swapper_->expectedWake(), env_.clock.now()});
  {
    std::lock_guard lock(mutex_);
    stats_.memoryBytes = 0;
    stats_.residentSeconds +=
        std::chrono::duration<double>(env_.clock.now() - residentSince_).count();
  }
  metrics_->swapOutSeconds.observe(result.ms / 1000);
  env_.observer.swapped(SwapEvent::kSwapOut, result.ms);
  log(WOP_LOG_DEBUG, "swapped out (" + result.message + ", " + std::to_string(result.ms) + " ms" +
                         (check.swapNow ? "" : ", for the host's memory budget") + ")");
  if (auto at = swapper_->nextPrefetch()) wakeAt(*at);
  watchSwappedOut();
}

void Operator::watchSwappedOut() {
  const auto now = env_.clock.now();
  {
    std::lock_guard lock(mutex_);
    swappedOutSince_ = now;
    if (swappedOutCheckArmed_) return;  // the armed check re-arms for this swap-out
    swappedOutCheckArmed_ = true;
  }
  armSwappedOutCheck(now + env_.settings.swappedOutEventAfter);
}

void Operator::armSwappedOutCheck(common::TimePoint at) {
  std::weak_ptr<Operator> weak = weak_from_this();
  env_.timers.at(at, [weak] {
    if (auto self = weak.lock()) self->checkSwappedOut();
  });
}

void Operator::checkSwappedOut() {
  const auto now = env_.clock.now();
  const auto after = env_.settings.swappedOutEventAfter;
  std::optional<common::TimePoint> due;
  {
    std::lock_guard lock(mutex_);
    const auto state = supervisor_.state();
    if (!swappedOutSince_ || state == OperatorState::kStopped || state == OperatorState::kRefused) {
      swappedOutCheckArmed_ = false;
      return;
    }
    if (now < *swappedOutSince_ + after) {
      due = *swappedOutSince_ + after;  // restored and swapped out again meanwhile
    } else {
      swappedOutSince_.reset();  // one report per swap-out
      swappedOutCheckArmed_ = false;
    }
  }
  if (due) {
    armSwappedOutCheck(*due);
    return;
  }
  report({.change = LifecycleChange::kSwappedOut, .delay = after});
}

}  // namespace wop::runtime
