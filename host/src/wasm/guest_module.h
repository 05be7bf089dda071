// A validated, compiled guest module. Loading refuses, with a one-line reason, anything the
// host cannot run safely: bytes that are not a core Wasm module, modules too large, imports
// the host does not provide, or no exported memory.
//
// Thread-safety: a GuestModule is immutable and may be shared by instances on any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include <wasmtime.hh>

#include "common/status.h"
#include "wasm/engine.h"

namespace wop::wasm {

class GuestModule {
 public:
  // name is used in messages only (usually the file name or operator name).
  static common::Result<GuestModule> compile(Engine& engine, std::span<const uint8_t> bytes,
                                             const std::string& name);
  static common::Result<GuestModule> compileFile(Engine& engine, const std::string& path);

  const std::string& name() const { return name_; }
  const wasmtime::Module& raw() const { return module_; }
  bool exportsFunction(std::string_view name) const;

 private:
  GuestModule(std::string name, wasmtime::Module module)
      : name_(std::move(name)), module_(std::move(module)) {}

  std::string name_;
  wasmtime::Module module_;
};

}  // namespace wop::wasm
