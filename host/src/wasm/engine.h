// The one Wasmtime engine of a host process, configured for many small, sandboxed guests:
// Cranelift ahead-of-time compilation and epoch interruption (a ticker thread advances the
// epoch, each store sets its own deadline in ticks).
//
// Linear memory layout (engine-wide; docs/benchmarks/vm.md has the figures behind it): by
// default Wasmtime's own for 64-bit hosts, 4 GiB of address space per memory plus 32 MiB guards
// before and after, so compiled code needs no bounds checks. With memoryReservationBytes set,
// each memory reserves that much (plus kSmallGuardBytes either side), never moves, and compiled
// code compares every address with the reservation (an access between the memory's size and
// the reservation still traps on the unmapped pages). A memory then cannot grow past the
// reservation, so a guest whose memory limit is above it is refused (checkMemoryLimit).
//
// Thread-safety: an Engine may be used from any thread. It must outlive every module and
// store made from it.
#pragma once

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <wasmtime.hh>

#include "common/status.h"

namespace wop::wasm {

struct EngineOptions {
  // How often the epoch advances; the granularity of every guest time limit.
  std::chrono::milliseconds epochTick{10};
  // Address space reserved per guest linear memory; 0: Wasmtime's default (guard pages, no
  // bounds checks). Rounded up to a multiple of 64 KiB (a Wasm page); kMaxReservation or more
  // is the same as 0.
  uint64_t memoryReservationBytes = 0;
};

// The guard either side of a reserved memory: bounds checks are exact, so it only catches a
// code generator's mistake, at no cost but address space.
constexpr uint64_t kSmallGuardBytes = 64u << 10;
// A 32-bit memory never needs more; from here on Wasmtime elides bounds checks.
constexpr uint64_t kMaxReservation = 4ull << 30;

class Engine {
 public:
  explicit Engine(EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  wasmtime::Engine& raw() { return engine_; }
  const EngineOptions& options() const { return options_; }

  // Identifies the engine configuration and Wasmtime version: precompiled artifacts made by
  // one fingerprint are only valid for the same.
  std::string fingerprint() const;

  // Bytes of address space each linear memory reserves, guards excluded (Wasmtime's default
  // when EngineOptions::memoryReservationBytes is 0), and whether compiled code checks bounds.
  uint64_t memoryReservation() const;
  bool explicitBoundsChecks() const { return options_.memoryReservationBytes != 0; }
  // Ok when a guest may grow its memory to maxMemoryBytes under this engine; else why not,
  // naming the setting.
  common::Status checkMemoryLimit(uint64_t maxMemoryBytes) const;

  // Converts a time limit to epoch ticks, rounding up, at least one.
  uint64_t ticksFor(std::chrono::milliseconds limit) const;

 private:
  EngineOptions options_;
  wasmtime::Engine engine_;
  std::jthread ticker_;
};

}  // namespace wop::wasm
