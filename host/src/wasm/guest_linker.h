// The imports every guest instance is linked against: the WASI shim plus the embedder's host
// functions, defined once per process, and modules prepared against them (Wasmtime's
// InstancePre: imports resolved and type-checked once, so each instantiation only allocates).
//
// Thread-safety: a GuestLinker and PreparedModules may be shared by all threads once built.
#pragma once

#include <functional>
#include <memory>
#include <wasmtime.hh>

#include "common/status.h"
#include "wasm/engine.h"
#include "wasm/guest_module.h"

namespace wop::wasm {

class PreparedModule {
 public:
  const GuestModule& module() const { return module_; }
  // Instantiates into store (which must belong to the same engine); a trap in the module's
  // start function comes back as the TrapError.
  wasmtime::TrapResult<wasmtime::Instance> instantiate(wasmtime::Store::Context context) const;

 private:
  friend class GuestLinker;
  struct PreDeleter {
    void operator()(wasmtime_instance_pre_t* pre) const { wasmtime_instance_pre_delete(pre); }
  };
  PreparedModule(GuestModule module, wasmtime_instance_pre_t* pre)
      : module_(std::move(module)), pre_(pre, PreDeleter()) {}

  GuestModule module_;
  std::shared_ptr<wasmtime_instance_pre_t> pre_;  // shared: PreparedModule is copyable
};

class GuestLinker {
 public:
  using DefineImports = std::function<common::Status(wasmtime::Linker&)>;

  static common::Result<std::unique_ptr<GuestLinker>> create(Engine& engine,
                                                             DefineImports defineImports = {});

  common::Result<PreparedModule> prepare(const GuestModule& module) const;

 private:
  explicit GuestLinker(wasmtime::Linker linker) : linker_(std::move(linker)) {}
  wasmtime::Linker linker_;
};

}  // namespace wop::wasm
