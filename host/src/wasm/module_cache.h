// Compiles each module once. Artifacts (Wasmtime's precompiled native code) are kept in a
// private folder, keyed by the SHA-256 of the module as compiled (with the exports the host
// adds for its hidden globals, hidden_globals.h), the engine configuration and the Wasmtime
// version, and later loads map them from disk (no recompilation on restart; code pages are
// file-backed, so they can be shared and dropped under memory pressure). In memory, loading
// the same bytes twice shares one compiled module.
//
// The folder must be private to the host: a precompiled artifact is native code, and loading
// one written by anybody else would run their code. It is created with mode 0700.
//
// Thread-safety: load may be called concurrently.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/sha256.h"
#include "common/status.h"
#include "wasm/engine.h"
#include "wasm/guest_module.h"

namespace wop::wasm {

struct ModuleCacheCounters {
  uint64_t compiled = 0;        // compiled from Wasm (artifact written)
  uint64_t loadedFromDisk = 0;  // mapped from an artifact
  uint64_t sharedInMemory = 0;  // same bytes already loaded in this process
};

class ModuleCache {
 public:
  ModuleCache(Engine& engine, std::string directory);

  // Checks the module's bytes against requirements (GuestModule::precheck) before compiling
  // or mapping anything.
  common::Result<GuestModule> load(const std::string& path, const ModuleRequirements& requirements);
  // The module of identity (a GuestModule::identity() this cache gave out) again, without
  // reading or hashing its Wasm: from memory if anyone still holds it, else mapped from its
  // artifact. For operators that let their module go while swapped out.
  common::Result<GuestModule> reload(const std::string& identity, const std::string& name,
                                     const ModuleRequirements& requirements);
  // Whether reload can find identity's artifact on disk.
  bool hasArtifact(const std::string& identity) const;

  ModuleCacheCounters counters() const;
  const std::string& directory() const { return directory_; }

 private:
  common::Result<wasmtime::Module> compiledModule(const std::string& path, const std::string& key,
                                                  std::span<const uint8_t> bytes);
  std::shared_ptr<const wasmtime::Module> inMemory(const std::string& key);

  Engine& engine_;
  std::string directory_;
  mutable std::mutex mutex_;
  // By artifact key; weak, so that a module nobody uses is dropped and its code unmapped.
  std::map<std::string, std::weak_ptr<const wasmtime::Module>> loaded_;
  ModuleCacheCounters counters_;
};

using common::sha256Hex;  // where the module cache's keys come from

}  // namespace wop::wasm
