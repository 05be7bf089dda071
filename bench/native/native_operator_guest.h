// The native OperatorGuest of the ring benchmark's `native` and `combined` setups: an
// operator written with the guest SDK and compiled natively (no Wasm), entered through the
// same detail::Runtime methods the SDK's Wasm exports call (sdk/src/glue.cc), with its host
// calls going to the runtime through a NativeHost. Benchmark-only: no isolation, no limits on
// memory or time, and an operator that crashes takes the process with it.
//
// Thread-safety: one thread at a time per guest (the runtime's contract); different guests
// may be entered concurrently, since each entry sets the SDK's per-thread Host for itself.
#pragma once

#include <functional>
#include <memory>

#include "native/native_host.h"
#include "runtime/operator_guest.h"
#include "wop/runtime.h"

namespace wop::bench {

using OperatorMaker = std::function<std::unique_ptr<sdk::Operator>()>;

class NativeOperatorGuest final : public runtime::OperatorGuest {
 public:
  // services must outlive the guest.
  NativeOperatorGuest(std::unique_ptr<sdk::Operator> op, hostcalls::OperatorServices& services)
      : operator_(std::move(op)), host_(services), runtime_(host_) {}

  common::Status init() override;
  common::Status reconcile(uint32_t reconcileId, uint32_t controller,
                           std::string_view key) override;
  common::Status complete(uint32_t token, int32_t httpStatus, std::string_view body) override;
  common::Status map(uint32_t controller, uint32_t watch, std::string_view objectJson) override;
  // There is no linear memory, and the operator's heap is the process's, which no allocator
  // API attributes per operator: reports 0 rather than a guess. Measure the process instead.
  uint64_t memoryBytes() override { return 0; }

 private:
  // Runs one entry with this guest's Host as the SDK's ambient one (restored after), and
  // turns an exception, which must not reach the runtime's worker, into an error: the
  // native counterpart of a trap. Only exceptions outside the SDK's coroutines (e.g. from
  // controllers() or a mapper) get here; one inside a reconcile aborts the process, since
  // the SDK's promises abort on unhandled exceptions (they are built for -fno-exceptions).
  common::Status enter(const char* name, const std::function<int32_t()>& entry,
                       int32_t* status = nullptr);

  std::unique_ptr<sdk::Operator> operator_;
  NativeHost host_;
  sdk::detail::Runtime runtime_;
};

class NativeGuestFactory final : public runtime::GuestFactory {
 public:
  // makeOperator builds a fresh operator object for each guest (a restart gets a new one, as
  // a Wasm restart gets a fresh instance).
  explicit NativeGuestFactory(OperatorMaker makeOperator)
      : makeOperator_(std::move(makeOperator)) {}

  common::Result<std::unique_ptr<runtime::OperatorGuest>> create(
      hostcalls::OperatorServices& services) override;

 private:
  const OperatorMaker makeOperator_;
};

}  // namespace wop::bench
