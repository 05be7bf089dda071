// The one Wasmtime engine of a host process, configured for many small, sandboxed guests:
// Cranelift ahead-of-time compilation and epoch interruption (a ticker thread advances the
// epoch, each store sets its own deadline in ticks).
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

namespace wop::wasm {

struct EngineOptions {
  // How often the epoch advances; the granularity of every guest time limit.
  std::chrono::milliseconds epochTick{10};
};

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

  // Converts a time limit to epoch ticks, rounding up, at least one.
  uint64_t ticksFor(std::chrono::milliseconds limit) const;

 private:
  EngineOptions options_;
  wasmtime::Engine engine_;
  std::jthread ticker_;
};

}  // namespace wop::wasm
