// An operator's code as the runtime enters it: the four entry points of ABI v1 (abi/wop_abi.h),
// with the host calls going back to the OperatorServices the guest was made for. The host runs
// Wasm guests (WasmOperatorGuest); the ring benchmark also links native ones, so that the same
// runtime can be measured with and without Wasm.
//
// Thread-safety: one thread at a time (the operator's worker).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "common/status.h"
#include "common/wake_guess.h"
#include "hostcalls/operator_services.h"
#include "snapshot/operator_snapshot.h"

namespace wop::runtime {

class OperatorGuest {
 public:
  virtual ~OperatorGuest() = default;
  // wop_init: declares the controllers (through OperatorServices::declare).
  virtual common::Status init() = 0;
  virtual common::Status reconcile(uint32_t reconcileId, uint32_t controller,
                                   std::string_view key) = 0;
  virtual common::Status complete(uint32_t token, int32_t httpStatus, std::string_view body) = 0;
  virtual common::Status map(uint32_t controller, uint32_t watch, std::string_view objectJson) = 0;
  // Bytes of memory the guest's own state occupies (linear memory for Wasm).
  virtual uint64_t memoryBytes() = 0;
  // Saves the guest's whole state, between entries, to snapshot (only guests whose factory is
  // capturable). restoredFromChain: this guest was restored from snapshot and may save a delta.
  virtual common::Result<snapshot::SaveResult> saveTo(snapshot::OperatorSnapshot& snapshot,
                                                      bool restoredFromChain) {
    (void)snapshot;
    (void)restoredFromChain;
    return common::Status(common::StatusCode::kFailedPrecondition,
                          "this guest cannot be snapshotted");
  }
  // True once memory mapped from a snapshot could not be read (snapshot/mapped_memory_guard.h):
  // some of it reads as zero, so the guest must be dropped and started afresh.
  virtual bool memoryFaulted() const { return false; }
};

class GuestFactory {
 public:
  virtual ~GuestFactory() = default;
  // A fresh guest whose host calls go to services, which must outlive it. Not yet initialised.
  // kFailedPrecondition: the module can never be instantiated (a link error, a segment out of
  // bounds, a store limit): the operator is refused, not restarted.
  virtual common::Result<std::unique_ptr<OperatorGuest>> create(
      hostcalls::OperatorServices& services) = 0;

  // Ok if guests can be swapped out (their state captured between entries), else why not.
  virtual common::Status capturable() const {
    return common::Status(common::StatusCode::kFailedPrecondition, "its guests are not Wasm");
  }
  // What a snapshot must have been taken from to be restored by this factory.
  virtual std::string identity() const { return {}; }
  // "sha256:<hex>" of the module file its guests come from; empty when there is none.
  virtual std::string sourceDigest() const { return {}; }
  // The operator is swapped out: let go of what only its guests need (compiled code). dueBack:
  // when the operator is due back, so that what is kept for restores is what comes back soonest.
  virtual void releaseCode(const common::WakeGuess& dueBack) { (void)dueBack; }
  // This factory's share of the compiled code it holds now (0 once released): the image over
  // the factories sharing it.
  virtual uint64_t residentCodeBytes() const { return 0; }
  // A guest whose state is the snapshot's: a new instance with the plan mapped over its memory.
  virtual common::Result<std::unique_ptr<OperatorGuest>> restore(
      hostcalls::OperatorServices& services, const snapshot::OperatorSnapshot& snapshot,
      const snapshot::RestorePlan& plan) {
    (void)services;
    (void)snapshot;
    (void)plan;
    return capturable();
  }
};

}  // namespace wop::runtime
