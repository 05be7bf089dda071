#include "wasm/guest_linker.h"

#include "wasm/wasi_shim.h"

namespace wop::wasm {

using common::Status;
using common::StatusCode;

wasmtime::TrapResult<wasmtime::Instance> PreparedModule::instantiate(
    wasmtime::Store::Context context) const {
  wasmtime_instance_t instance;
  wasm_trap_t* trap = nullptr;
  wasmtime_error_t* error =
      wasmtime_instance_pre_instantiate(pre_.get(), context.capi(), &instance, &trap);
  if (error != nullptr) return wasmtime::TrapError(wasmtime::Error(error));
  if (trap != nullptr) return wasmtime::TrapError(wasmtime::Trap(trap));
  return wasmtime::Instance(instance);
}

common::Result<std::unique_ptr<GuestLinker>> GuestLinker::create(Engine& engine,
                                                                 DefineImports defineImports) {
  wasmtime::Linker linker(engine.raw());
  if (auto status = defineWasiShim(linker); !status.isOk()) return status;
  if (defineImports) {
    if (auto status = defineImports(linker); !status.isOk()) return status;
  }
  return std::unique_ptr<GuestLinker>(new GuestLinker(std::move(linker)));
}

common::Result<PreparedModule> GuestLinker::prepare(const GuestModule& module) const {
  wasmtime_instance_pre_t* pre = nullptr;
  wasmtime_error_t* error =
      wasmtime_linker_instantiate_pre(linker_.capi(), module.raw().capi(), &pre);
  if (error != nullptr) {
    return Status(StatusCode::kFailedPrecondition,
                  "linking " + module.name() + ": " + wasmtime::Error(error).message());
  }
  return PreparedModule(module, pre);
}

}  // namespace wop::wasm
