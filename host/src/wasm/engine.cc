#include "wasm/engine.h"

namespace wop::wasm {
namespace {

wasmtime::Config makeConfig() {
  wasmtime::Config config;
  config.epoch_interruption(true);
  config.cranelift_opt_level(wasmtime::OptLevel::Speed);
  // No GC heap and no exception objects: guests built for wasm32-wasi use neither, and a
  // store's GC heap is one more resource a guest could grow (Wasmtime 48 enables both).
  config.wasm_gc(false);
  config.wasm_exceptions(false);
  return config;
}

}  // namespace

Engine::Engine(EngineOptions options)
    : options_(options), engine_(makeConfig()), ticker_([this](std::stop_token stop) {
        while (!stop.stop_requested()) {
          std::this_thread::sleep_for(options_.epochTick);
          engine_.increment_epoch();
        }
      }) {}

Engine::~Engine() {
  ticker_.request_stop();
  ticker_.join();
}

std::string Engine::fingerprint() const {
  // Everything makeConfig() sets that changes generated code, plus the Wasmtime version.
  return std::string("wasmtime") + WOP_WASMTIME_VERSION + "-epoch-speed-nogc";
}

uint64_t Engine::ticksFor(std::chrono::milliseconds limit) const {
  const auto tick = options_.epochTick.count() > 0 ? options_.epochTick.count() : 1;
  const auto ticks = (limit.count() + tick - 1) / tick;
  return ticks > 0 ? static_cast<uint64_t>(ticks) : 1;
}

}  // namespace wop::wasm
