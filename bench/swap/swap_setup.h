// What the swap benchmark's modes without a control plane share (swap_bench.cc: sizes and
// dirty; restore_bench.cc: restore): bench/guests/swap_memory.wat loaded and prepared as
// OperatorHost does, guests filled with random words, and the check that a restore gave them back.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>
#include <wasmtime.hh>

#include "hostcalls/abi_v1.h"
#include "runtime/wasm_operator_guest.h"
#include "snapshot/operator_snapshot.h"
#include "swap/swap_bench.h"
#include "wasm/module_cache.h"

namespace wop::bench::swap {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kPage = 4096;
constexpr uint64_t kMaxMemory = 128 * kMiB;

[[noreturn]] void die(const std::string& what);

template <typename T>
T check(common::Result<T> result, const std::string& what) {
  if (!result) die(what + ": " + result.status().toString());
  return std::move(*result);
}

void check(const common::Status& status, const std::string& what);

// The guest imports nothing: these are never called.
class NoServices final : public hostcalls::OperatorServices {
 public:
  void log(int32_t, std::string_view) override {}
  std::string config() override { return "{}"; }
  hostcalls::HostResult<int32_t> declare(std::string_view) override { return int32_t{0}; }
  hostcalls::HostResult<std::string> cacheRead(std::string_view) override { return std::string(); }
  hostcalls::HostResult<uint32_t> apiCall(std::string_view) override { return uint32_t{0}; }
  hostcalls::HostResult<int32_t> reconcileDone(uint32_t, int32_t, int64_t,
                                               std::string_view) override {
    return int32_t{0};
  }
  hostcalls::HostResult<int32_t> emitKey(std::string_view) override { return int32_t{0}; }
  void contractViolation(std::string what) override { die("contract violation: " + what); }
};

uint64_t splitmix(uint64_t& state);

// One loaded module and a factory of guests of it, as OperatorHost::add makes them.
struct Setup {
  wasm::Engine engine;
  wasm::ModuleCache modules;
  std::unique_ptr<wasm::GuestLinker> linker;
  std::unique_ptr<runtime::WasmGuestFactory> factory;
  NoServices services;

  explicit Setup(const Args& args);
  std::unique_ptr<runtime::WasmOperatorGuest> create();
  std::unique_ptr<runtime::WasmOperatorGuest> restore(const snapshot::OperatorSnapshot& snap,
                                                      const snapshot::RestorePlan& plan);
};

// path loaded and prepared as OperatorHost::add does it, into a factory of guests named name
// (dies if it cannot, or if its guests cannot be snapshotted). A reload after releaseCode() maps
// the compiled code back from its artifact, as the host's do. modules and linker must outlive it.
std::unique_ptr<runtime::WasmGuestFactory> capturableFactory(wasm::Engine& engine,
                                                             wasm::ModuleCache& modules,
                                                             wasm::GuestLinker& linker,
                                                             const std::string& path,
                                                             const std::string& name);

int64_t callI64(runtime::WasmOperatorGuest& guest, const char* name,
                std::vector<wasmtime::Val> args);

// A guest grown to bytes, every word random (nothing compresses, no page is zero).
struct Filled {
  std::unique_ptr<runtime::WasmOperatorGuest> guest;
  std::vector<std::pair<uint32_t, uint64_t>> probes;  // (address, word) to check after a restore
  uint64_t touchSum = 0;                              // what bench_touch must return
};

Filled createFilled(Setup& setup, uint64_t bytes, uint64_t seed);
void checkRestored(runtime::WasmOperatorGuest& guest, const Filled& filled, int32_t generation);
// Bytes the files under directory take on disk.
uint64_t diskBytes(const std::string& directory);

}  // namespace wop::bench::swap
