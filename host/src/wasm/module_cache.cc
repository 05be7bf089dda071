#include "wasm/module_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "common/file.h"
#include "common/limits.h"
#include "common/sha256.h"
#include "wasm/hidden_globals.h"

namespace wop::wasm {
using common::Status;
using common::StatusCode;

ModuleCache::ModuleCache(Engine& engine, std::string directory, size_t maxParked)
    : engine_(engine), directory_(std::move(directory)), maxParked_(maxParked) {
  std::error_code error;
  // Made private when this creates it; an existing folder (say the system's temporary one) is
  // the user's and is not chmod'ed.
  if (std::filesystem::create_directories(directory_, error)) ::chmod(directory_.c_str(), 0700);
}

ModuleCacheCounters ModuleCache::counters() const {
  std::lock_guard lock(mutex_);
  auto counters = counters_;
  counters.parked = parked_.size();
  return counters;
}

common::Result<wasmtime::Module> ModuleCache::compiledModule(const std::string& path,
                                                             const std::string& key,
                                                             std::span<const uint8_t> bytes) {
  const std::string artifact = directory_ + "/" + key + ".cwasm";
  if (std::filesystem::exists(artifact)) {
    auto mapped = wasmtime::Module::deserialize_file(engine_.raw(), artifact);
    if (mapped) {
      std::lock_guard lock(mutex_);
      counters_.loadedFromDisk++;
      return mapped.unwrap();
    }
    // Unreadable or from another build: compile afresh and replace it.
    std::remove(artifact.c_str());
  }
  auto checked = GuestModule::compileBytes(engine_, bytes, path);
  if (!checked) return checked.status();
  auto serialized = checked->serialize();
  if (serialized) {
    if (common::writeFileAtomically(artifact, serialized.unwrap()).isOk()) {
      auto mapped = wasmtime::Module::deserialize_file(engine_.raw(), artifact);
      if (mapped) {
        std::lock_guard lock(mutex_);
        counters_.compiled++;
        return mapped.unwrap();
      }
    }
  }
  // A full disk or a read-only cache costs memory, not correctness: use the compiled module.
  std::lock_guard lock(mutex_);
  counters_.compiled++;
  return std::move(*checked);
}

common::Result<GuestModule> ModuleCache::load(const std::string& path,
                                              const ModuleRequirements& requirements) {
  auto bytes = common::readFileBytes(path, limits::kMaxModuleBytes);
  if (!bytes) return bytes.status().withContext("loading module " + path);
  // The file's digest, as read: checked against a pin, and named in a WasmOperator's status.
  const std::string fileSha256 = sha256Hex(*bytes);
  if (!requirements.sha256.empty() && fileSha256 != requirements.sha256) {
    return Status(StatusCode::kInvalidArgument, "loading module " + path + ": its sha256 is " +
                                                    fileSha256 + ", not the " +
                                                    requirements.sha256 + " its definition pins");
  }
  bool transformed = false;  // bytes are no longer the file's (a key hash of their own)
  if (path.ends_with(".wat")) {
    // WebAssembly text (handy for small test guests): converted, then treated like binary.
    std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
    auto binary = wasmtime::wat2wasm(text);
    if (!binary) {
      return Status(StatusCode::kInvalidArgument,
                    "loading module " + path + ": " + binary.err().message());
    }
    bytes = binary.unwrap();
    transformed = true;
  }
  // Refused before anything is compiled, on what the bytes say (guest_module.h).
  auto summary = GuestModule::precheck(*bytes, path, requirements);
  if (!summary) return summary.status();
  // Every mutable global is saved by a snapshot: the hidden ones get exports of their own, and
  // the module compiled (and keyed) is the one with them.
  auto capturable = checkCapturableState(*bytes);
  if (capturable && !capturable->hiddenMutableGlobals.empty()) {
    auto exported = exportHiddenGlobals(*bytes, capturable->hiddenMutableGlobals);
    if (exported) {
      bytes = std::move(*exported);
      transformed = true;
    } else {
      capturable = exported.status();
    }
  }
  const std::string key =
      (transformed ? sha256Hex(*bytes) : fileSha256) + "-" + engine_.fingerprint();
  auto withOrigin = [&](common::Result<GuestModule> module) {
    if (module) {
      module->setOrigin(key, std::move(capturable));
      module->setSourceDigest("sha256:" + fileSha256);
      module->setInstantiationRunsCode(summary->hasStartFunction);
    }
    return module;
  };
  if (auto shared = inMemory(key))
    return withOrigin(GuestModule::fromCompiled(std::move(shared), path, requirements));
  auto module = compiledModule(path, key, *bytes);
  if (!module) return module.status();
  auto shared = std::make_shared<const wasmtime::Module>(std::move(*module));
  {
    std::lock_guard lock(mutex_);
    loaded_[key] = shared;
  }
  return withOrigin(GuestModule::fromCompiled(std::move(shared), path, requirements));
}

std::shared_ptr<const wasmtime::Module> ModuleCache::inMemory(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = loaded_.find(key);
  if (it == loaded_.end()) return nullptr;
  auto shared = it->second.lock();
  if (shared) {
    counters_.sharedInMemory++;
    // Taken back by an operator: no longer parked, so the holders of its image are operators
    // only (each one's share of code is the image over them, GuestModule::imageHolders).
    unparkLocked(key);
  } else {
    loaded_.erase(it);
  }
  return shared;
}

bool ModuleCache::park(const std::string& identity, const GuestModule& module,
                       const common::WakeGuess& dueBack) {
  if (maxParked_ == 0 || identity.empty()) return false;
  std::shared_ptr<const wasmtime::Module> letGo;  // released outside the lock: it unmaps code
  std::lock_guard lock(mutex_);
  unparkLocked(identity);
  auto& parked = parked_[identity];
  parked.module = module.compiled();
  parked.parkedAt = dueBack.now;
  if (dueBack.at) {
    parked.byWake = byWake_.emplace(*dueBack.at, identity);
  } else {
    parked.unguessed = unguessed_.insert(unguessed_.end(), identity);
  }
  if (parked_.size() <= maxParked_) return true;
  const std::string goes = parkedToLetGo(dueBack.now);  // a copy: unparking frees the original
  letGo = parked_.at(goes).module;
  unparkLocked(goes);
  counters_.parkedLetGo++;
  return goes != identity;
}

const std::string& ModuleCache::parkedToLetGo(common::TimePoint now) const {
  if (!unguessed_.empty()) return unguessed_.front();
  // A guess that did not come true (late by more than the wait it predicted) would otherwise
  // hold its place for good, counted as due any moment.
  const auto& [soonest, soonestIdentity] = *byWake_.begin();
  const auto parkedAt = parked_.at(soonestIdentity).parkedAt;
  if (common::lateBeyondItsWait(soonest, parkedAt, now) > common::Duration::zero()) {
    return soonestIdentity;
  }
  return std::prev(byWake_.end())->second;
}

void ModuleCache::unparkLocked(const std::string& identity) {
  auto found = parked_.find(identity);
  if (found == parked_.end()) return;
  if (found->second.unguessed) unguessed_.erase(*found->second.unguessed);
  if (found->second.byWake) byWake_.erase(*found->second.byWake);
  parked_.erase(found);
}

size_t ModuleCache::parked() const {
  std::lock_guard lock(mutex_);
  return parked_.size();
}

bool ModuleCache::hasArtifact(const std::string& identity) const {
  return std::filesystem::exists(directory_ + "/" + identity + ".cwasm");
}

common::Result<GuestModule> ModuleCache::reload(const std::string& identity,
                                                const std::string& name) {
  if (auto shared = inMemory(identity)) return GuestModule::checkedBefore(std::move(shared), name);
  const std::string artifact = directory_ + "/" + identity + ".cwasm";
  auto mapped = wasmtime::Module::deserialize_file(engine_.raw(), artifact);
  if (!mapped)
    return Status(StatusCode::kUnavailable,
                  "reloading " + name + " from " + artifact + ": " + mapped.err().message());
  auto shared = std::make_shared<const wasmtime::Module>(mapped.unwrap());
  {
    std::lock_guard lock(mutex_);
    counters_.loadedFromDisk++;
    loaded_[identity] = shared;
  }
  return GuestModule::checkedBefore(std::move(shared), name);
}

}  // namespace wop::wasm
