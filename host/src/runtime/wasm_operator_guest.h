// The Wasm OperatorGuest: one GuestInstance of a prepared module, entered through ABI v1.
#pragma once

#include <functional>
#include <memory>
#include <optional>

#include "runtime/operator_guest.h"
#include "snapshot/mapped_memory_guard.h"
#include "wasm/engine.h"
#include "wasm/guest_instance.h"
#include "wasm/guest_linker.h"

namespace wop::runtime {

class WasmOperatorGuest final : public OperatorGuest {
 public:
  // capturedGlobals: the exported mutable globals a snapshot saves (module_state_check.h).
  // snapshotLease: for a restored guest, the lease of the plan mapped over its memory.
  // memoryGuard: for a restored guest, the guard watching the memory the layers are mapped into.
  WasmOperatorGuest(wasm::GuestInstance instance, std::vector<std::string> capturedGlobals,
                    std::shared_ptr<const void> snapshotLease = {},
                    std::unique_ptr<snapshot::MappedMemoryGuard> memoryGuard = {})
      : snapshotLease_(std::move(snapshotLease)),
        instance_(std::move(instance)),
        memoryGuard_(std::move(memoryGuard)),
        capturedGlobals_(std::move(capturedGlobals)) {}

  common::Status init() override;
  common::Status reconcile(uint32_t reconcileId, uint32_t controller,
                           std::string_view key) override;
  common::Status complete(uint32_t token, int32_t httpStatus, std::string_view body) override;
  common::Status map(uint32_t controller, uint32_t watch, std::string_view objectJson) override;
  uint64_t memoryBytes() override { return instance_.memoryBytes(); }
  common::Result<snapshot::SaveResult> saveTo(snapshot::OperatorSnapshot& snapshot,
                                              bool restoredFromChain) override;
  bool memoryFaulted() const override { return memoryGuard_ && memoryGuard_->faulted(); }

  wasm::GuestInstance& instance() { return instance_; }
  // Sets the exported mutable globals a snapshot saved.
  common::Status restoreGlobals(const std::vector<snapshot::GlobalValue>& globals);

 private:
  // Copies bytes in, then calls name(a, b, ptr, len).
  common::Status enterWithBytes(const char* name, uint32_t a, int32_t b, std::string_view bytes);

  // Declared before the instance, so released after its memory (which maps the layers) is.
  const std::shared_ptr<const void> snapshotLease_;
  wasm::GuestInstance instance_;
  // Declared after the instance, so it stops watching before the memory is unmapped.
  const std::unique_ptr<snapshot::MappedMemoryGuard> memoryGuard_;
  const std::vector<std::string> capturedGlobals_;
};

class WasmGuestFactory final : public GuestFactory {
 public:
  // Brings the module back after releaseCode(); empty: the module is never released.
  using Reload = std::function<common::Result<wasm::PreparedModule>()>;
  // Offers the module, as releaseCode() lets it go, to be kept for the next Reload
  // (ModuleCache::park) with when its operator is due back; returns whether it was kept. Empty:
  // nothing is kept.
  using Park = std::function<bool(const wasm::GuestModule&, const common::WakeGuess&)>;

  // name labels the guest's messages (the operator's name, not its file's).
  WasmGuestFactory(wasm::Engine& engine, wasm::PreparedModule module, wasm::InstanceLimits limits,
                   std::string name, Reload reload = {}, Park park = {});

  common::Result<std::unique_ptr<OperatorGuest>> create(
      hostcalls::OperatorServices& services) override;
  common::Status capturable() const override { return capturable_; }
  std::string identity() const override { return identity_; }
  std::string sourceDigest() const override { return sourceDigest_; }
  common::Result<std::unique_ptr<OperatorGuest>> restore(
      hostcalls::OperatorServices& services, const snapshot::OperatorSnapshot& snapshot,
      const snapshot::RestorePlan& plan) override;
  // Drops this operator's hold on its compiled module while it is swapped out. The last holder
  // offers it to Park: kept mapped for the next reload with its clean code pages given back;
  // not kept, it is unmapped.
  void releaseCode(const common::WakeGuess& dueBack) override;
  uint64_t residentCodeBytes() const override;

 private:
  common::Status ensureLoaded();

  wasm::Engine& engine_;
  std::optional<wasm::PreparedModule> module_;
  const wasm::InstanceLimits limits_;
  const std::string name_;
  const Reload reload_;
  const Park park_;
  const std::string identity_;
  const std::string sourceDigest_;
  const common::Status capturable_;
  const std::vector<std::string> capturedGlobals_;
};

}  // namespace wop::runtime
