// A validated, compiled guest module. Loading refuses, with a one-line reason, anything the
// host cannot run safely: bytes that are not a core Wasm module, modules too large or with too
// many functions or too much code to compile (limits.h), imports that are not functions the
// host provides, exports of the wrong kind or missing, more memories or tables than a guest
// gets, or a table or memory that starts above its limit. Everything that can be read from
// the bytes is checked before Wasmtime compiles them (module_summary.h).
//
// Thread-safety: a GuestModule is immutable and may be shared by instances on any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>
#include <wasmtime.hh>

#include "common/status.h"
#include "wasm/engine.h"
#include "wasm/module_state_check.h"
#include "wasm/module_summary.h"

namespace wop::wasm {

// What the embedder requires of a module beyond being valid Wasm. The wasm layer knows no
// ABI; the layer that does (hostcalls) fills this in.
struct ModuleRequirements {
  // Imports the host provides besides the WASI shim; null: none.
  std::function<bool(std::string_view module, std::string_view name)> providesImport;
  // The module must export a function named abiMarker (a global or anything else of that
  // name is refused); an export that starts with
  // abiMarkerPrefix but differs names an unknown ABI version. Empty: no check.
  std::string abiMarker;
  std::string abiMarkerPrefix;
  std::vector<std::string> requiredExports;  // functions
  // Refuse a module whose memory starts larger than this (0: no limit).
  uint64_t maxMemoryBytes = 0;
  // The sha256 (hex) the module file's bytes must have, as read; empty: no pin. Checked by
  // ModuleCache::load before anything else.
  std::string sha256;
};

class GuestModule {
 public:
  // name is used in messages only (usually the file name or operator name).
  static common::Result<GuestModule> compile(Engine& engine, std::span<const uint8_t> bytes,
                                             const std::string& name,
                                             const ModuleRequirements& requirements = {});
  static common::Result<GuestModule> compileFile(Engine& engine, const std::string& path,
                                                 const ModuleRequirements& requirements = {});
  // Checks bytes against requirements and the compilation bounds without compiling them;
  // returns their outline.
  static common::Result<ModuleSummary> precheck(std::span<const uint8_t> bytes,
                                                const std::string& name,
                                                const ModuleRequirements& requirements);
  // Size, header and compilation bounds, then compilation; no ABI checks (see precheck and
  // fromCompiled). Memory the compiler freed is given back to the system afterwards.
  static common::Result<wasmtime::Module> compileBytes(Engine& engine,
                                                       std::span<const uint8_t> bytes,
                                                       const std::string& name);
  // Checks an already compiled module (e.g. one loaded from the artifact cache).
  static common::Result<GuestModule> fromCompiled(wasmtime::Module module, const std::string& name,
                                                  const ModuleRequirements& requirements);
  static common::Result<GuestModule> fromCompiled(std::shared_ptr<const wasmtime::Module> module,
                                                  const std::string& name,
                                                  const ModuleRequirements& requirements);

  const std::string& name() const { return name_; }
  const wasmtime::Module& raw() const { return *module_; }
  // Bytes of the compiled image (code and its tables) the module maps, and how many
  // GuestModules share that image now: one holder's share of code memory is the first over the
  // second (an artifact mapped once serves every operator with the same module).
  uint64_t imageBytes() const { return image_.size(); }
  long imageHolders() const { return module_.use_count(); }
  // Where the image is mapped (for giving its clean pages back while nobody runs it).
  std::span<const uint8_t> image() const { return image_; }
  // The compiled module itself, for a ModuleCache to keep (park) while no operator holds it.
  std::shared_ptr<const wasmtime::Module> compiled() const { return module_; }
  bool exportsFunction(std::string_view name) const;
  // Whether instantiating it may run its code (a start function): then a trap during
  // instantiation is the guest's, not a property of the module. True unless its bytes said
  // otherwise (a module mapped from an artifact alone is not known).
  bool instantiationRunsCode() const { return instantiationRunsCode_; }
  void setInstantiationRunsCode(bool runsCode) { instantiationRunsCode_ = runsCode; }

  // Where the module came from, set by the ModuleCache: its SHA-256 with the engine's
  // fingerprint (a snapshot must match it), and whether its state between entries can be
  // snapshotted (module_state_check.h). Modules not loaded through a cache are never swapped.
  const std::string& identity() const { return identity_; }
  const common::Result<CapturableState>& capturableState() const { return *capturable_; }
  void setOrigin(std::string identity, common::Result<CapturableState> capturable);
  // "sha256:<hex>" of the module file's bytes as the cache read them (what a WasmOperator's
  // status names and a definition may pin); empty when it was not read from a file.
  const std::string& sourceDigest() const { return sourceDigest_; }
  void setSourceDigest(std::string digest) { sourceDigest_ = std::move(digest); }

 private:
  // ModuleCache::reload gives a module out again by identity without checking it (checkedBefore).
  friend class ModuleCache;
  // A module that passed fromCompiled before: the same compiled module again, or one mapped
  // from the artifact of the same identity (the same bytes, so the same imports and exports).
  // Not checked again: on every restore that walked its imports and exports through the C API,
  // 3.3% of the host's CPU in the ring at N = 1000 at the defaults. Private: nobody else may
  // skip the checks.
  static GuestModule checkedBefore(std::shared_ptr<const wasmtime::Module> module,
                                   const std::string& name) {
    return GuestModule(name, std::move(module));
  }
  GuestModule(std::string name, std::shared_ptr<const wasmtime::Module> module)
      : name_(std::move(name)), module_(std::move(module)), image_(imageOf(*module_)) {}
  static std::span<const uint8_t> imageOf(const wasmtime::Module& module);

  std::string name_;
  // Shared so that a ModuleCache can hand out the same compiled module while anyone holds it,
  // and let it go (its code unmapped) when nobody does.
  std::shared_ptr<const wasmtime::Module> module_;
  // Fixed once compiled (the module_ keeps it mapped): read at construction, not per report.
  std::span<const uint8_t> image_;
  std::string identity_;
  std::string sourceDigest_;
  bool instantiationRunsCode_ = true;
  std::shared_ptr<const common::Result<CapturableState>> capturable_ =
      std::make_shared<const common::Result<CapturableState>>(
          common::Status(common::StatusCode::kFailedPrecondition, "its origin is unknown"));
};

}  // namespace wop::wasm
