// Swapping an idle operator to disk and back (docs/swap.md). All of this runs on the worker
// that runs the operator's slice, between entries into its guest, so no Wasm frame is live and
// the guest's whole state is its linear memory and exported globals.
//
//  - An operator with nothing queued, nothing in flight and no API call pending for its idle
//    period (and that the predictor does not expect to be woken again soon) is swapped out: its
//    memory is saved (a delta when it was restored and is still mostly the snapshot's mapping)
//    and the instance is dropped, returning its memory to the system.
//  - When a key becomes due (an event passed its filters, a requeue timer fired) or a predicted
//    wake-up is near, a fresh instance gets the snapshot mapped copy-on-write over its memory.
//  - A snapshot that cannot be used (missing, truncated, corrupt, another module) means a fresh
//    instance and every key queued again: reconciles are level-triggered, so nothing is lost.
#include "runtime/operator.h"
#include "runtime/operator_host.h"
#include "wop_abi.h"

namespace wop::runtime {
namespace {

using SteadyClock = std::chrono::steady_clock;

// After a failed swap-out (a full disk), how long before the next try.
constexpr auto kSwapRetryAfter = std::chrono::seconds(30);

double millisecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

}  // namespace

void Operator::setUpSwapping() {
  const auto& options = host_.options().swap;
  const bool wanted = spec_.swap.value_or(options.enabled) && !host_.snapshotDirectory().empty();
  if (!wanted) return;
  if (auto capturable = guests_->capturable(); !capturable.isOk()) {
    log(WOP_LOG_INFO, "never swapped out: " + capturable.message());
    return;
  }
  idleAfter_ = spec_.swapIdleAfter.value_or(options.idleAfter);
  predict_ = options.predict;
  WakePredictorOptions predictorOptions;
  predictorOptions.idleAfter = idleAfter_;
  {
    std::lock_guard lock(mutex_);
    predictor_ = WakePredictor(predictorOptions);
    stats_.swappable = true;
  }
  snapshot_ = std::make_unique<snapshot::OperatorSnapshot>(
      host_.snapshotDirectory() + "/" + spec_.name, guests_->identity());
}

// Called with mutex_ held, from the thread that queued a key for a change.
void Operator::recordWake(SteadyClock::time_point now) {
  if (!snapshot_) return;
  predictor_.recordWake(now);
  if (swappedOut_) {
    stats_.wakesSwapped++;
  } else {
    stats_.wakesResident++;
  }
}

bool Operator::wantsGuest() {
  {
    std::lock_guard lock(mutex_);
    if (!completions_.empty() || !mapRequests_.empty()) return true;
  }
  for (const auto& controller : controllers_) {
    if (controller->queue->hasReady()) return true;
  }
  return false;
}

// A prefetch is due: the predictor expects a change soon and the guest is still on disk.
bool Operator::prefetchDue(SteadyClock::time_point now) {
  if (!predict_) return false;
  std::lock_guard lock(mutex_);
  const auto at = predictor_.prefetchAt();
  const auto wake = predictor_.predictedWake();
  return at && wake && *at <= now && *wake > now;
}

void Operator::armPrefetch() {
  if (!predict_) return;
  std::optional<SteadyClock::time_point> at;
  {
    std::lock_guard lock(mutex_);
    at = predictor_.prefetchAt();
  }
  if (at && *at > SteadyClock::now()) host_.wakeAt(shared_from_this(), *at);
}

bool Operator::restore(bool prefetch) {
  const auto started = SteadyClock::now();
  auto plan = snapshot_->open();
  // Small layers (deltas, small memories) are checked before the guest runs on them.
  auto checked =
      plan ? snapshot::OperatorSnapshot::verifyData(*plan, snapshot::VerifyScope::kBeforeRun)
           : plan.status();
  auto guest = checked.isOk() ? guests_->restore(*this, *snapshot_, *plan)
                              : common::Result<std::unique_ptr<OperatorGuest>>(checked);
  if (!guest) {
    restartFromSnapshotFault("cannot restore from its snapshot: " + guest.status().message());
    return state_ == OperatorState::kRunning;
  }
  guest_ = std::move(*guest);
  restoredFromChain_ = true;
  prefetched_ = prefetch;
  swappedOut_ = false;
  idleSince_.reset();
  const double ms = millisecondsSince(started);
  {
    std::lock_guard lock(mutex_);
    stats_.swappedOut = false;
    stats_.restores++;
    if (prefetch) stats_.prefetches++;
    stats_.lastRestoreMs = ms;
    residentSince_ = started;
  }
  host_.recordSwap(SwapEvent::kRestore, ms);
  // Bigger layers are checked after the guest is back, off its path: reading them whole would
  // make restore time grow with memory size. The plan keeps the files open.
  auto verified = std::make_shared<snapshot::RestorePlan>(std::move(*plan));
  std::weak_ptr<Operator> weak = weak_from_this();
  const uint64_t generation = generation_;
  host_.runInBackground([weak, verified, generation] {
    auto status =
        snapshot::OperatorSnapshot::verifyData(*verified, snapshot::VerifyScope::kAfterRun);
    if (status.isOk()) return;
    auto self = weak.lock();
    if (!self) return;
    {
      std::lock_guard lock(self->mutex_);
      self->snapshotFault_ = {generation, status.message()};
    }
    self->host_.schedule(self);
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
  if (!fault || fault->first != generation_) return false;
  restartFromSnapshotFault("ran from a corrupt snapshot: " + fault->second);
  return true;
}

void Operator::restartFromSnapshotFault(const std::string& reason) {
  log(WOP_LOG_WARN, reason + "; starting from a fresh instance and queueing every key again");
  snapshot_->discard();
  dropInstance();
  {
    std::lock_guard lock(mutex_);
    stats_.snapshotFaults++;
    stats_.swappedOut = false;
  }
  (void)start();  // a fresh instance; requeues every key (or fails into the restart backoff)
}

void Operator::considerSwapOut(bool idle) {
  if (!snapshot_ || swappedOut_ || !guest_ || state_ != OperatorState::kRunning) return;
  const auto now = SteadyClock::now();
  if (!idle) {
    idleSince_.reset();
    return;
  }
  if (!idleSince_) idleSince_ = now;
  SteadyClock::time_point checkAt;
  bool may = false;
  if (now < swapRetryAt_) {
    checkAt = swapRetryAt_;
  } else if (predict_) {
    std::lock_guard lock(mutex_);
    may = predictor_.shouldSwapOut(*idleSince_, now);
    checkAt = predictor_.swapOutCheckAt(*idleSince_, now);
  } else {
    may = now - *idleSince_ >= idleAfter_;
    checkAt = *idleSince_ + idleAfter_;
  }
  if (may) {
    swapOut();
    return;
  }
  // One timer per check time: idle slices would otherwise each add one.
  if (checkAt > now && checkAt != swapCheckAt_) {
    swapCheckAt_ = checkAt;
    host_.wakeAt(shared_from_this(), checkAt);
  }
}

void Operator::swapOut() {
  const auto started = SteadyClock::now();
  auto saved = guest_->saveTo(*snapshot_, restoredFromChain_);
  if (guest_->memoryFaulted() ||
      (!saved && saved.status().code() == common::StatusCode::kDataLoss)) {
    // The save read memory whose snapshot file shrank: what it wrote is not the guest's state.
    restartFromSnapshotFault(std::string("swap-out ") + kLostSnapshotMemory);
    return;
  }
  if (saved && !saved->recreatedFolder.empty()) {
    log(WOP_LOG_WARN,
        "the snapshot folder " + saved->recreatedFolder + " had been removed; made it again");
  }
  if (!saved) {
    // A full disk costs memory, not correctness: the operator stays resident and tries later.
    swapRetryAt_ = started + kSwapRetryAfter;
    log(WOP_LOG_WARN, "staying resident: cannot swap out: " + saved.status().message());
    return;
  }
  guest_.reset();          // drops the store: the memory goes back to the system
  guests_->releaseCode();  // and the compiled code, unless another operator runs the same module
  swappedOut_ = true;
  prefetched_ = false;
  idleSince_.reset();
  const double ms = millisecondsSince(started);
  {
    std::lock_guard lock(mutex_);
    stats_.swappedOut = true;
    stats_.swapOuts++;
    stats_.snapshotBytes = saved->bytesWritten;
    stats_.lastSwapOutMs = ms;
    stats_.memoryBytes = 0;
    stats_.residentSeconds += std::chrono::duration<double>(started - residentSince_).count();
  }
  host_.recordSwap(SwapEvent::kSwapOut, ms);
  log(WOP_LOG_DEBUG, std::string("swapped out (") + (saved->full ? "full" : "delta") + ", " +
                         std::to_string(saved->bytesWritten >> 10) + " KiB written, " +
                         std::to_string(saved->layers) + " layer(s), " + std::to_string(ms) +
                         " ms)");
  armPrefetch();
}

}  // namespace wop::runtime
