// One running instance of a guest module in its own Wasmtime store, with a memory cap and a
// time limit on every entry into the guest. A trap, a timeout or a broken calling contract
// comes back as a Status; the host process is never at risk.
//
// Call convention of callWithBytes (used by the sample guests and the `call` CLI command):
//   the guest exports wop_alloc(len: i32) -> ptr: i32, and FUNC(ptr: i32, len: i32) -> i64.
//   The host allocates and copies the input in, calls FUNC; a result >= 0 packs the output
//   as (ptr << 32 | len), a negative result is the guest's error code (its stderr says why).
//
// Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <wasmtime.hh>

#include "common/status.h"
#include "wasm/engine.h"
#include "wasm/guest_linker.h"
#include "wasm/guest_memory.h"
#include "wasm/guest_module.h"
#include "wasm/guest_state.h"

namespace wop::wasm {

struct InstanceLimits {
  uint64_t maxMemoryBytes = 64u << 20;
  std::chrono::milliseconds maxEntryTime{1000};  // per entry into the guest
};

class GuestInstance {
 public:
  // Instantiates module with the WASI shim only and runs its reactor initialiser
  // (_initialize) if it has one.
  static common::Result<GuestInstance> create(Engine& engine, const GuestModule& module,
                                              InstanceLimits limits);
  // Instantiates a module prepared against a GuestLinker; embedder becomes
  // GuestState::embedder before any guest code runs.
  // runInitializer false: skip _initialize, for an instance whose memory is about to be
  // replaced by a snapshot taken after its initialiser ran.
  static common::Result<GuestInstance> create(Engine& engine, const PreparedModule& module,
                                              InstanceLimits limits, void* embedder,
                                              bool runInitializer = true);

  GuestInstance(GuestInstance&&) = default;
  GuestInstance& operator=(GuestInstance&&) = default;

  common::Result<std::string> callWithBytes(std::string_view exportName, std::string_view input);

  // What the guest wrote to stdout/stderr so far.
  const GuestState& state() const { return *state_; }
  GuestState& state() { return *state_; }

  // Calls an exported function with the entry time limit; a trap, a timeout or a missing
  // export comes back as a Status.
  common::Result<std::vector<wasmtime::Val>> enter(std::string_view name,
                                                   const std::vector<wasmtime::Val>& args);
  // Copies bytes into a buffer from the guest's wop_alloc; returns its address.
  common::Result<uint32_t> copyIn(std::string_view bytes);
  // Current size of the guest's linear memory.
  uint64_t memoryBytes();
  // The guest's linear memory, for snapshots; valid until the guest runs again (it may grow).
  std::span<uint8_t> memory();
  // Grows the linear memory to at least bytes (within the memory limit).
  common::Status growMemoryTo(uint64_t bytes);
  // Exported globals by name, for snapshots.
  std::optional<wasmtime::Val> exportedGlobal(std::string_view name);
  common::Status setExportedGlobal(std::string_view name, const wasmtime::Val& value);

 private:
  GuestInstance(Engine& engine, InstanceLimits limits, std::unique_ptr<GuestState> state,
                wasmtime::Store store)
      : engine_(&engine), limits_(limits), state_(std::move(state)), store_(std::move(store)) {}

  static common::Result<GuestInstance> finishCreate(
      GuestInstance instance, const GuestModule& module,
      wasmtime::TrapResult<wasmtime::Instance> created, bool runInitializer = true);
  std::optional<wasmtime::Memory> exportedMemory();
  common::Result<wasmtime::Func> exportedFunc(std::string_view name);
  // A view of the exported memory, valid until the guest runs again (it may grow and move).
  std::optional<GuestMemory> memoryView();

  Engine* engine_;
  InstanceLimits limits_;
  std::unique_ptr<GuestState> state_;  // the store's data points here; stable across moves
  wasmtime::Store store_;
  std::optional<wasmtime::Instance> instance_;
  // Exported functions already looked up: every entry into the guest needs one, and
  // Wasmtime's lookup by name hashes the name each time.
  static constexpr size_t kMaxRememberedFuncs = 16;
  std::vector<std::pair<std::string, wasmtime::Func>> funcs_;
};

}  // namespace wop::wasm
