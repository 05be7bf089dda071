#include "wasm/guest_module.h"

#include <cstring>

#include "common/file.h"
#include "common/limits.h"
#include "wasm/wasi_shim.h"

namespace wop::wasm {
namespace {

using common::Status;
using common::StatusCode;

constexpr uint8_t kWasmMagic[4] = {0x00, 'a', 's', 'm'};
constexpr uint8_t kCoreVersion[4] = {0x01, 0x00, 0x00, 0x00};

Status checkHeader(std::span<const uint8_t> bytes) {
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kWasmMagic, 4) != 0) {
    return Status(StatusCode::kInvalidArgument, "not a WebAssembly module (no \\0asm header)");
  }
  if (std::memcmp(bytes.data() + 4, kCoreVersion, 4) != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "not a core WebAssembly module (a component or an unknown binary version); "
                  "build the guest for wasm32-wasi as a core module");
  }
  return Status::ok();
}

Status checkImports(const wasmtime::Module& module) {
  for (const auto& import : module.imports()) {
    if (!isWasiShimImport(import.module(), import.name())) {
      return Status(StatusCode::kFailedPrecondition,
                    "imports " + std::string(import.module()) + "." + std::string(import.name()) +
                        ", which the host does not provide");
    }
  }
  return Status::ok();
}

Status checkExports(const wasmtime::Module& module) {
  for (const auto& exported : module.exports()) {
    if (exported.name() == "memory") return Status::ok();
  }
  return Status(StatusCode::kFailedPrecondition, "exports no linear memory named \"memory\"");
}

}  // namespace

common::Result<GuestModule> GuestModule::compile(Engine& engine, std::span<const uint8_t> bytes,
                                                 const std::string& name) {
  const std::string context = "loading module " + name;
  if (bytes.size() > limits::kMaxModuleBytes) {
    return Status(StatusCode::kResourceExhausted,
                  "module is " + std::to_string(bytes.size()) + " bytes, above the limit of " +
                      std::to_string(limits::kMaxModuleBytes))
        .withContext(context);
  }
  if (auto status = checkHeader(bytes); !status.isOk()) return status.withContext(context);
  // wasmtime.hh takes a mutable span but only reads it (wasmtime_module_new takes const).
  std::span<uint8_t> readOnly(const_cast<uint8_t*>(bytes.data()), bytes.size());
  auto compiled = wasmtime::Module::compile(engine.raw(), readOnly);
  if (!compiled) {
    return Status(StatusCode::kInvalidArgument, "invalid module: " + compiled.err().message())
        .withContext(context);
  }
  wasmtime::Module module = compiled.unwrap();
  if (auto status = checkImports(module); !status.isOk()) return status.withContext(context);
  if (auto status = checkExports(module); !status.isOk()) return status.withContext(context);
  return GuestModule(name, std::move(module));
}

common::Result<GuestModule> GuestModule::compileFile(Engine& engine, const std::string& path) {
  auto bytes = common::readFileBytes(path, limits::kMaxModuleBytes);
  if (!bytes) return bytes.status().withContext("loading module " + path);
  return compile(engine, *bytes, path);
}

bool GuestModule::exportsFunction(std::string_view name) const {
  for (const auto& exported : module_.exports()) {
    if (exported.name() == name) return true;
  }
  return false;
}

}  // namespace wop::wasm
