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

Status checkImports(const wasmtime::Module& module, const ModuleRequirements& requirements) {
  for (const auto& import : module.imports()) {
    const bool provided = isWasiShimImport(import.module(), import.name()) ||
                          (requirements.providesImport &&
                           requirements.providesImport(import.module(), import.name()));
    if (!provided) {
      return Status(StatusCode::kFailedPrecondition, "imports " + std::string(import.module()) +
                                                         "." + std::string(import.name()) +
                                                         ", which the host does not provide");
    }
  }
  return Status::ok();
}

bool hasExport(const wasmtime::Module& module, std::string_view name) {
  for (const auto& exported : module.exports()) {
    if (exported.name() == name) return true;
  }
  return false;
}

Status checkAbiMarker(const wasmtime::Module& module, const ModuleRequirements& requirements) {
  if (requirements.abiMarker.empty() || hasExport(module, requirements.abiMarker))
    return Status::ok();
  for (const auto& exported : module.exports()) {
    if (!requirements.abiMarkerPrefix.empty() &&
        exported.name().starts_with(requirements.abiMarkerPrefix)) {
      return Status(StatusCode::kFailedPrecondition,
                    "declares ABI version " +
                        std::string(exported.name().substr(requirements.abiMarkerPrefix.size())) +
                        " (exports " + std::string(exported.name()) + "), but this host speaks " +
                        requirements.abiMarker.substr(requirements.abiMarkerPrefix.size()) +
                        "; rebuild the operator with a matching SDK");
    }
  }
  return Status(StatusCode::kFailedPrecondition,
                "exports no ABI marker " + requirements.abiMarker +
                    ": not a wasm-operator module (build it with the SDK)");
}

Status checkExports(const wasmtime::Module& module, const ModuleRequirements& requirements) {
  if (!hasExport(module, "memory")) {
    return Status(StatusCode::kFailedPrecondition, "exports no linear memory named \"memory\"");
  }
  if (auto status = checkAbiMarker(module, requirements); !status.isOk()) return status;
  for (const auto& name : requirements.requiredExports) {
    if (!hasExport(module, name)) {
      return Status(StatusCode::kFailedPrecondition, "does not export " + name);
    }
  }
  return Status::ok();
}

Status checkMemory(const wasmtime::Module& module, const ModuleRequirements& requirements) {
  if (requirements.maxMemoryBytes == 0) return Status::ok();
  for (const auto& exported : module.exports()) {
    auto type = wasmtime::ExternType::from_export(exported);
    if (const auto* memory = std::get_if<wasmtime::MemoryType::Ref>(&type)) {
      const uint64_t initial = memory->min() * 65536;
      if (initial > requirements.maxMemoryBytes) {
        return Status(StatusCode::kResourceExhausted,
                      "declares " + std::to_string(initial >> 20) +
                          " MiB of initial memory, above " + "its limit of " +
                          std::to_string(requirements.maxMemoryBytes >> 20) + " MiB");
      }
    }
  }
  return Status::ok();
}

}  // namespace

common::Result<GuestModule> GuestModule::fromCompiled(wasmtime::Module module,
                                                      const std::string& name,
                                                      const ModuleRequirements& requirements) {
  return fromCompiled(std::make_shared<const wasmtime::Module>(std::move(module)), name,
                      requirements);
}

common::Result<GuestModule> GuestModule::fromCompiled(
    std::shared_ptr<const wasmtime::Module> module, const std::string& name,
    const ModuleRequirements& requirements) {
  const std::string context = "loading module " + name;
  if (auto status = checkImports(*module, requirements); !status.isOk())
    return status.withContext(context);
  if (auto status = checkExports(*module, requirements); !status.isOk())
    return status.withContext(context);
  if (auto status = checkMemory(*module, requirements); !status.isOk())
    return status.withContext(context);
  return GuestModule(name, std::move(module));
}

common::Result<wasmtime::Module> GuestModule::compileBytes(Engine& engine,
                                                           std::span<const uint8_t> bytes,
                                                           const std::string& name) {
  const std::string context = "loading module " + name;
  if (bytes.size() > limits::kMaxModuleBytes) {
    return Status(StatusCode::kResourceExhausted, "module is " + std::to_string(bytes.size()) +
                                                      " bytes, above the limit of " +
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
  return compiled.unwrap();
}

common::Result<GuestModule> GuestModule::compile(Engine& engine, std::span<const uint8_t> bytes,
                                                 const std::string& name,
                                                 const ModuleRequirements& requirements) {
  auto compiled = compileBytes(engine, bytes, name);
  if (!compiled) return compiled.status();
  return fromCompiled(std::move(*compiled), name, requirements);
}

common::Result<GuestModule> GuestModule::compileFile(Engine& engine, const std::string& path,
                                                     const ModuleRequirements& requirements) {
  auto bytes = common::readFileBytes(path, limits::kMaxModuleBytes);
  if (!bytes) return bytes.status().withContext("loading module " + path);
  return compile(engine, *bytes, path, requirements);
}

bool GuestModule::exportsFunction(std::string_view name) const {
  for (const auto& exported : module_->exports()) {
    if (exported.name() == name) return true;
  }
  return false;
}

void GuestModule::setOrigin(std::string identity, common::Result<CapturableState> capturable) {
  identity_ = std::move(identity);
  capturable_ = std::make_shared<const common::Result<CapturableState>>(std::move(capturable));
}

}  // namespace wop::wasm
