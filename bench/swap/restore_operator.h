// A real operator for swap_bench restore (restore_operator.cc): the fleet operator with an index
// of a given size, started and saved once, then restored and entered for one reconcile per sample.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "swap/swap_setup.h"

namespace wop::bench::swap {

// The host's side of the operator's entries, answered as inside an entry (restore_operator.cc).
class OperatorEntryServices final : public hostcalls::OperatorServices {
 public:
  uint64_t indexKiB = 1024;
  uint32_t apiCalls = 0;  // patches issued
  uint32_t cacheReads = 0;

  void log(int32_t, std::string_view) override {}
  std::string config() override;
  hostcalls::HostResult<int32_t> declare(std::string_view) override { return int32_t{0}; }
  hostcalls::HostResult<std::string> cacheRead(std::string_view) override;
  hostcalls::HostResult<uint32_t> apiCall(std::string_view request) override;
  hostcalls::HostResult<int32_t> reconcileDone(uint32_t, int32_t, int64_t,
                                               std::string_view message) override;
  hostcalls::HostResult<int32_t> emitKey(std::string_view) override { return int32_t{0}; }
  void contractViolation(std::string what) override { die("contract violation: " + what); }
};

class OperatorBench {
 public:
  OperatorBench(const Args& args, uint64_t indexKiB);

  std::string identity() const { return factory_->identity(); }
  // Starts the operator (building its index) and saves it to snap; its memory in bytes.
  uint64_t start(snapshot::OperatorSnapshot& snap);
  // One reconcile of the started operator, resident since it started (ms to the entry's return).
  double residentReconcile();
  // Drops the started operator and lets go of its compiled code.
  void stopResident();
  // A restore from snap as Swapper::restore does it, then one reconcile: ms to its return.
  double restoreAndReconcile(const snapshot::OperatorSnapshot& snap);

 private:
  double reconcileOnce(runtime::OperatorGuest& guest);

  wasm::Engine engine_;
  wasm::ModuleCache modules_;
  std::unique_ptr<wasm::GuestLinker> linker_;
  std::unique_ptr<runtime::WasmGuestFactory> factory_;
  OperatorEntryServices services_;
  std::unique_ptr<runtime::OperatorGuest> resident_;
  uint32_t reconcileId_ = 0;
};

}  // namespace wop::bench::swap
