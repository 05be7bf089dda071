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
#include "hostcalls/operator_services.h"

namespace wop::runtime {

class OperatorGuest {
 public:
  virtual ~OperatorGuest() = default;
  // wop_init: declares the controllers (through OperatorServices::declare).
  virtual common::Status init() = 0;
  virtual common::Status reconcile(uint32_t reconcileId, uint32_t controller, std::string_view key) = 0;
  virtual common::Status complete(uint32_t token, int32_t httpStatus, std::string_view body) = 0;
  virtual common::Status map(uint32_t controller, uint32_t watch, std::string_view objectJson) = 0;
  // Bytes of memory the guest's own state occupies (linear memory for Wasm).
  virtual uint64_t memoryBytes() = 0;
};

class GuestFactory {
 public:
  virtual ~GuestFactory() = default;
  // A fresh guest whose host calls go to services, which must outlive it. Not yet initialised.
  virtual common::Result<std::unique_ptr<OperatorGuest>> create(hostcalls::OperatorServices& services) = 0;
};

}  // namespace wop::runtime
