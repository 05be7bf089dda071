#include "wasm/guest_module.h"

#include <malloc.h>

#include <cstring>

#include "common/file.h"
#include "common/limits.h"
#include "wasm/wasi_shim.h"
#include "wasm/wasm_reader.h"

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

std::string quoted(std::string_view name) { return binary::printable(name); }

Status checkImports(const ModuleSummary& module, const ModuleRequirements& requirements) {
  for (const auto& import : module.imports) {
    const std::string who = quoted(import.module) + "." + quoted(import.name);
    if (import.kind != ExternKind::kFunction) {
      return Status(StatusCode::kFailedPrecondition,
                    "imports a " + std::string(externKindName(import.kind)) + " " + who +
                        "; the host provides functions only");
    }
    const bool provided =
        isWasiShimImport(import.module, import.name) ||
        (requirements.providesImport && requirements.providesImport(import.module, import.name));
    if (!provided) {
      return Status(StatusCode::kFailedPrecondition,
                    "imports " + who + ", which the host does not provide");
    }
  }
  return Status::ok();
}

const ModuleExport* findExport(const ModuleSummary& module, std::string_view name) {
  for (const auto& exported : module.exports) {
    if (exported.name == name) return &exported;
  }
  return nullptr;
}

// The export `name` of `kind`: missing and wrong-kind exports are refused alike.
Status checkExportKind(const ModuleSummary& module, const std::string& name, ExternKind kind,
                       const std::string& missing) {
  const ModuleExport* exported = findExport(module, name);
  if (exported == nullptr) return Status(StatusCode::kFailedPrecondition, missing);
  if (exported->kind != kind) {
    return Status(StatusCode::kFailedPrecondition, "exports " + name + " as a " +
                                                       externKindName(exported->kind) + ", not a " +
                                                       externKindName(kind));
  }
  return Status::ok();
}

Status checkAbiMarker(const ModuleSummary& module, const ModuleRequirements& requirements) {
  if (requirements.abiMarker.empty()) return Status::ok();
  if (findExport(module, requirements.abiMarker) != nullptr) {
    return checkExportKind(module, requirements.abiMarker, ExternKind::kFunction, "");
  }
  for (const auto& exported : module.exports) {
    if (!requirements.abiMarkerPrefix.empty() &&
        exported.name.starts_with(requirements.abiMarkerPrefix)) {
      return Status(StatusCode::kFailedPrecondition,
                    "declares ABI version " +
                        quoted(exported.name.substr(requirements.abiMarkerPrefix.size())) +
                        " (exports " + quoted(exported.name) + "), but this host speaks " +
                        requirements.abiMarker.substr(requirements.abiMarkerPrefix.size()) +
                        "; rebuild the operator with a matching SDK");
    }
  }
  return Status(StatusCode::kFailedPrecondition,
                "exports no ABI marker " + requirements.abiMarker +
                    ": not a wasm-operator module (build it with the SDK)");
}

Status checkExports(const ModuleSummary& module, const ModuleRequirements& requirements) {
  if (auto status = checkExportKind(module, "memory", ExternKind::kMemory,
                                    "exports no linear memory named \"memory\"");
      !status.isOk())
    return status;
  if (auto status = checkAbiMarker(module, requirements); !status.isOk()) return status;
  for (const auto& name : requirements.requiredExports) {
    if (auto status =
            checkExportKind(module, name, ExternKind::kFunction, "does not export " + name);
        !status.isOk())
      return status;
  }
  return Status::ok();
}

// What every guest store allows (guest_instance.cc sets the same limits on the store), and
// the memory limit of this embedder.
Status checkResources(const ModuleSummary& module, const ModuleRequirements& requirements) {
  if (module.memories.size() > limits::kMaxGuestMemories) {
    return Status(StatusCode::kFailedPrecondition, "has " + std::to_string(module.memories.size()) +
                                                       " memories; a guest gets " +
                                                       std::to_string(limits::kMaxGuestMemories));
  }
  if (module.tables.size() > limits::kMaxGuestTables) {
    return Status(StatusCode::kFailedPrecondition, "has " + std::to_string(module.tables.size()) +
                                                       " tables; a guest gets " +
                                                       std::to_string(limits::kMaxGuestTables));
  }
  for (const auto& table : module.tables) {
    if (table.min > limits::kMaxGuestTableElements) {
      return Status(StatusCode::kResourceExhausted,
                    "declares a table of " + std::to_string(table.min) +
                        " elements, above the limit of " +
                        std::to_string(limits::kMaxGuestTableElements));
    }
  }
  if (requirements.maxMemoryBytes == 0) return Status::ok();
  for (const auto& memory : module.memories) {
    const uint64_t initialPages = memory.min;
    if (initialPages > requirements.maxMemoryBytes / 65536) {
      return Status(StatusCode::kResourceExhausted,
                    "declares " + std::to_string(initialPages >> 4) +
                        " MiB of initial memory, above its limit of " +
                        std::to_string(requirements.maxMemoryBytes >> 20) + " MiB");
    }
  }
  return Status::ok();
}

// What compiling the module may cost (limits.h).
Status checkCompilationBounds(const ModuleSummary& module) {
  if (module.definedFunctions > limits::kMaxModuleFunctions) {
    return Status(StatusCode::kResourceExhausted, "has " + std::to_string(module.definedFunctions) +
                                                      " functions, above the limit of " +
                                                      std::to_string(limits::kMaxModuleFunctions));
  }
  if (module.codeBytes > limits::kMaxModuleCodeBytes) {
    return Status(StatusCode::kResourceExhausted, "has " + std::to_string(module.codeBytes) +
                                                      " bytes of code, above the limit of " +
                                                      std::to_string(limits::kMaxModuleCodeBytes));
  }
  return Status::ok();
}

Status checkRequirements(const ModuleSummary& module, const ModuleRequirements& requirements) {
  if (auto status = checkImports(module, requirements); !status.isOk()) return status;
  if (auto status = checkExports(module, requirements); !status.isOk()) return status;
  return checkResources(module, requirements);
}

ExternKind kindOf(const wasmtime::ExternType::Ref& type) {
  if (std::holds_alternative<wasmtime::FuncType::Ref>(type)) return ExternKind::kFunction;
  if (std::holds_alternative<wasmtime::GlobalType::Ref>(type)) return ExternKind::kGlobal;
  if (std::holds_alternative<wasmtime::TableType::Ref>(type)) return ExternKind::kTable;
  if (std::holds_alternative<wasmtime::MemoryType::Ref>(type)) return ExternKind::kMemory;
  return ExternKind::kTag;
}

// The outline of a compiled module, as far as its type says: its imports, its exports, and
// the memories it exports (not its function count or code size, nor unexported memories).
ModuleSummary summaryOf(const wasmtime::Module& module) {
  ModuleSummary summary;
  for (const auto& import : module.imports()) {
    summary.imports.push_back({std::string(import.module()), std::string(import.name()),
                               kindOf(wasmtime::ExternType::from_import(import))});
  }
  for (const auto& exported : module.exports()) {
    auto type = wasmtime::ExternType::from_export(exported);
    uint32_t index = 0;
    if (const auto* memory = std::get_if<wasmtime::MemoryType::Ref>(&type)) {
      index = static_cast<uint32_t>(summary.memories.size());
      summary.memories.push_back({memory->min(), std::nullopt});
    }
    summary.exports.push_back({std::string(exported.name()), kindOf(type), index});
  }
  return summary;
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
  if (auto status = checkRequirements(summaryOf(*module), requirements); !status.isOk())
    return status.withContext("loading module " + name);
  return GuestModule(name, std::move(module));
}

namespace {

// Size, header and outline: what every module passes before anything else looks at it.
common::Result<ModuleSummary> outline(std::span<const uint8_t> bytes) {
  if (bytes.size() > limits::kMaxModuleBytes) {
    return Status(StatusCode::kResourceExhausted, "module is " + std::to_string(bytes.size()) +
                                                      " bytes, above the limit of " +
                                                      std::to_string(limits::kMaxModuleBytes));
  }
  if (auto status = checkHeader(bytes); !status.isOk()) return status;
  auto summary = summarizeModule(bytes);
  if (!summary) {
    return Status(summary.status().code(), "invalid module: " + summary.status().message());
  }
  if (auto status = checkCompilationBounds(*summary); !status.isOk()) return status;
  return summary;
}

}  // namespace

common::Result<ModuleSummary> GuestModule::precheck(std::span<const uint8_t> bytes,
                                                    const std::string& name,
                                                    const ModuleRequirements& requirements) {
  const std::string context = "loading module " + name;
  auto summary = outline(bytes);
  if (!summary) return summary.status().withContext(context);
  if (auto status = checkRequirements(*summary, requirements); !status.isOk())
    return status.withContext(context);
  return summary;
}

common::Result<wasmtime::Module> GuestModule::compileBytes(Engine& engine,
                                                           std::span<const uint8_t> bytes,
                                                           const std::string& name) {
  const std::string context = "loading module " + name;
  if (auto summary = outline(bytes); !summary) return summary.status().withContext(context);
  // wasmtime.hh takes a mutable span but only reads it (wasmtime_module_new takes const).
  std::span<uint8_t> readOnly(const_cast<uint8_t*>(bytes.data()), bytes.size());
  auto compiled = wasmtime::Module::compile(engine.raw(), readOnly);
  // The compiler's working memory is freed but stays in the allocator's arenas: give it back,
  // or the host keeps the peak of its largest compilation for good.
  ::malloc_trim(0);
  if (!compiled) {
    return Status(StatusCode::kInvalidArgument, "invalid module: " + compiled.err().message())
        .withContext(context);
  }
  return compiled.unwrap();
}

common::Result<GuestModule> GuestModule::compile(Engine& engine, std::span<const uint8_t> bytes,
                                                 const std::string& name,
                                                 const ModuleRequirements& requirements) {
  auto summary = precheck(bytes, name, requirements);
  if (!summary) return summary.status();
  auto compiled = compileBytes(engine, bytes, name);
  if (!compiled) return compiled.status();
  auto module = fromCompiled(std::move(*compiled), name, requirements);
  if (module) module->setInstantiationRunsCode(summary->hasStartFunction);
  return module;
}

common::Result<GuestModule> GuestModule::compileFile(Engine& engine, const std::string& path,
                                                     const ModuleRequirements& requirements) {
  auto bytes = common::readFileBytes(path, limits::kMaxModuleBytes);
  if (!bytes) return bytes.status().withContext("loading module " + path);
  return compile(engine, *bytes, path, requirements);
}

std::span<const uint8_t> GuestModule::imageOf(const wasmtime::Module& module) {
  void* start = nullptr;
  void* end = nullptr;
  wasmtime_module_image_range(module.capi(), &start, &end);
  return {static_cast<const uint8_t*>(start), static_cast<const uint8_t*>(end)};
}

bool GuestModule::exportsFunction(std::string_view name) const {
  for (const auto& exported : module_->exports()) {
    if (exported.name() == name)
      return kindOf(wasmtime::ExternType::from_export(exported)) == ExternKind::kFunction;
  }
  return false;
}

void GuestModule::setOrigin(std::string identity, common::Result<CapturableState> capturable) {
  identity_ = std::move(identity);
  capturable_ = std::make_shared<const common::Result<CapturableState>>(std::move(capturable));
}

}  // namespace wop::wasm
