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

#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.h"
#include "common/sha256.h"
#include "common/status.h"
#include "common/wake_guess.h"
#include "wasm/engine.h"
#include "wasm/guest_module.h"

namespace wop::wasm {

struct ModuleCacheCounters {
  uint64_t compiled = 0;        // compiled from Wasm (artifact written)
  uint64_t loadedFromDisk = 0;  // mapped from an artifact
  uint64_t sharedInMemory = 0;  // same bytes already loaded in this process
  uint64_t parked = 0;          // kept in memory for swapped-out operators now
  uint64_t parkedLetGo = 0;     // parked (or offered) and let go over the limit
};

class ModuleCache {
 public:
  // maxParked: how many modules park() keeps (kDefaultMaxParked; 0: none).
  ModuleCache(Engine& engine, std::string directory, size_t maxParked = kDefaultMaxParked);
  static constexpr size_t kDefaultMaxParked = 1024;

  // Checks the module's bytes against requirements (GuestModule::precheck) before compiling
  // or mapping anything.
  common::Result<GuestModule> load(const std::string& path, const ModuleRequirements& requirements);
  // The module of identity (a GuestModule::identity() this cache gave out) again, without
  // reading or hashing its Wasm: from memory if anyone still holds it, else mapped from its
  // artifact. For operators that let their module go while swapped out. Not checked against
  // requirements again: load did, for the caller that got identity from it.
  common::Result<GuestModule> reload(const std::string& identity, const std::string& name);
  // Whether reload can find identity's artifact on disk.
  bool hasArtifact(const std::string& identity) const;
  // Keeps module (identity: what load gave it; a reloaded module does not carry it) in memory
  // after its last operator let it go for a swap-out (dueBack: when that operator is due back), so
  // that reload finds it instead of mapping and registering the artifact again: that was half of a
  // restore (0.6 ms against 0.3, the ring at N = 100, idle 0). At most maxParked: each costs
  // Wasmtime's metadata and a few maps (the caller may give the code pages themselves back). Over
  // the limit, one goes, the first of: the least recently parked of those without a guess; the most
  // overdue guess, once it is late by more than the wait it predicted; the guess due furthest
  // ahead, which may be module's own (then it is not kept). Least recently parked alone kept
  // nothing that a cycle longer than the limit came back to: in the ring at N = 3000, every restore
  // mapped its artifact again (0.85 ms a restore against 0.27 at N = 1000); furthest-due keeps a
  // fixed limit's worth of the cycle parked. Taking it from memory again (reload or load) unparks
  // it. Returns whether it was kept.
  bool park(const std::string& identity, const GuestModule& module,
            const common::WakeGuess& dueBack = {});
  size_t parked() const;

  ModuleCacheCounters counters() const;
  const std::string& directory() const { return directory_; }

 private:
  common::Result<wasmtime::Module> compiledModule(const std::string& path, const std::string& key,
                                                  std::span<const uint8_t> bytes);
  std::shared_ptr<const wasmtime::Module> inMemory(const std::string& key);
  void unparkLocked(const std::string& identity);

  Engine& engine_;
  std::string directory_;
  mutable std::mutex mutex_;
  // By artifact key; weak, so that a module nobody uses is dropped and its code unmapped.
  std::map<std::string, std::weak_ptr<const wasmtime::Module>> loaded_;
  // Parked modules by identity, each with its place in one of two orders: every swap-out parks
  // and every restore unparks, so neither may scan (a scan of the parked compared up to
  // maxParked identities each time: memcmp was 6% of the host's CPU in the ring at N = 1000).
  using Unguessed = std::list<std::string>;                      // least recently parked first
  using ByWake = std::multimap<common::TimePoint, std::string>;  // soonest first
  struct ParkedModule {
    std::shared_ptr<const wasmtime::Module> module;
    common::TimePoint parkedAt{};
    std::optional<Unguessed::iterator> unguessed;
    std::optional<ByWake::iterator> byWake;
  };
  // Which parked module goes when one too many are; mutex_ held.
  const std::string& parkedToLetGo(common::TimePoint now) const;
  const size_t maxParked_;
  std::unordered_map<std::string, ParkedModule> parked_;
  Unguessed unguessed_;
  ByWake byWake_;
  ModuleCacheCounters counters_;
};

using common::sha256Hex;  // where the module cache's keys come from

}  // namespace wop::wasm
