// The Wasm OperatorGuest: one GuestInstance of a prepared module, entered through ABI v1.
#pragma once

#include <memory>

#include "runtime/operator_guest.h"
#include "wasm/engine.h"
#include "wasm/guest_instance.h"
#include "wasm/guest_linker.h"

namespace wop::runtime {

class WasmOperatorGuest final : public OperatorGuest {
 public:
  // capturedGlobals: the exported mutable globals a snapshot saves (module_state_check.h).
  WasmOperatorGuest(wasm::GuestInstance instance, std::vector<std::string> capturedGlobals)
      : instance_(std::move(instance)), capturedGlobals_(std::move(capturedGlobals)) {}

  common::Status init() override;
  common::Status reconcile(uint32_t reconcileId, uint32_t controller, std::string_view key) override;
  common::Status complete(uint32_t token, int32_t httpStatus, std::string_view body) override;
  common::Status map(uint32_t controller, uint32_t watch, std::string_view objectJson) override;
  uint64_t memoryBytes() override { return instance_.memoryBytes(); }
  common::Result<snapshot::SaveResult> saveTo(snapshot::OperatorSnapshot& snapshot, bool restoredFromChain) override;

  wasm::GuestInstance& instance() { return instance_; }
  // Sets the exported mutable globals a snapshot saved.
  common::Status restoreGlobals(const std::vector<snapshot::GlobalValue>& globals);

 private:
  // Copies bytes in, then calls name(a, b, ptr, len).
  common::Status enterWithBytes(const char* name, uint32_t a, int32_t b, std::string_view bytes);

  wasm::GuestInstance instance_;
  const std::vector<std::string> capturedGlobals_;
};

class WasmGuestFactory final : public GuestFactory {
 public:
  // name labels the guest's messages (the operator's name, not its file's).
  WasmGuestFactory(wasm::Engine& engine, wasm::PreparedModule module, wasm::InstanceLimits limits,
                   std::string name)
      : engine_(engine), module_(std::move(module)), limits_(limits), name_(std::move(name)) {}

  common::Result<std::unique_ptr<OperatorGuest>> create(hostcalls::OperatorServices& services) override;
  common::Status capturable() const override { return module_.module().capturableState().status(); }
  std::string identity() const override { return module_.module().identity(); }
  common::Result<std::unique_ptr<OperatorGuest>> restore(hostcalls::OperatorServices& services,
                                                         const snapshot::OperatorSnapshot& snapshot,
                                                         const snapshot::RestorePlan& plan) override;

  const wasm::PreparedModule& module() const { return module_; }

 private:
  wasm::Engine& engine_;
  const wasm::PreparedModule module_;
  const wasm::InstanceLimits limits_;
  const std::string name_;

  std::vector<std::string> capturedGlobals() const;
};

}  // namespace wop::runtime
