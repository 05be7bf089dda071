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
  explicit WasmOperatorGuest(wasm::GuestInstance instance) : instance_(std::move(instance)) {}

  common::Status init() override;
  common::Status reconcile(uint32_t reconcileId, uint32_t controller, std::string_view key) override;
  common::Status complete(uint32_t token, int32_t httpStatus, std::string_view body) override;
  common::Status map(uint32_t controller, uint32_t watch, std::string_view objectJson) override;
  uint64_t memoryBytes() override { return instance_.memoryBytes(); }

  wasm::GuestInstance& instance() { return instance_; }

 private:
  // Copies bytes in, then calls name(a, b, ptr, len).
  common::Status enterWithBytes(const char* name, uint32_t a, int32_t b, std::string_view bytes);

  wasm::GuestInstance instance_;
};

class WasmGuestFactory final : public GuestFactory {
 public:
  // name labels the guest's messages (the operator's name, not its file's).
  WasmGuestFactory(wasm::Engine& engine, wasm::PreparedModule module, wasm::InstanceLimits limits,
                   std::string name)
      : engine_(engine), module_(std::move(module)), limits_(limits), name_(std::move(name)) {}

  common::Result<std::unique_ptr<OperatorGuest>> create(hostcalls::OperatorServices& services) override;

  const wasm::PreparedModule& module() const { return module_; }

 private:
  wasm::Engine& engine_;
  const wasm::PreparedModule module_;
  const wasm::InstanceLimits limits_;
  const std::string name_;
};

}  // namespace wop::runtime
