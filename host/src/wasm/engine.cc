#include "wasm/engine.h"

namespace wop::wasm {
namespace {

constexpr uint64_t kWasmPage = 64u << 10;
// Wasmtime's default reservation on 64-bit hosts (Config::memory_reservation).
constexpr uint64_t kWasmtimeDefaultReservation = 4ull << 30;

EngineOptions normalized(EngineOptions options) {
  uint64_t& bytes = options.memoryReservationBytes;
  if (bytes >= kMaxReservation) bytes = 0;
  bytes = (bytes + kWasmPage - 1) / kWasmPage * kWasmPage;
  return options;
}

std::string mib(uint64_t bytes) {
  return bytes % (1u << 20) == 0 ? std::to_string(bytes >> 20) + " MiB"
                                 : std::to_string(bytes) + " bytes";
}

wasmtime::Config makeConfig(const EngineOptions& options) {
  wasmtime::Config config;
  if (options.memoryReservationBytes != 0) {
    // Never moving is what lets compiled code compare addresses with a constant (the
    // reservation) instead of loading the memory's current size, and keeps the snapshot pages a
    // restore mapped at the memory's base where they are (a move would copy them to anonymous
    // memory behind the snapshot's back). Nothing is reserved for growth past the reservation:
    // there is none.
    config.memory_reservation(options.memoryReservationBytes);
    config.memory_guard_size(kSmallGuardBytes);
    config.memory_may_move(false);
    config.memory_reservation_for_growth(0);
  }
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
    : options_(normalized(options)),
      engine_(makeConfig(options_)),
      ticker_([this](std::stop_token stop) {
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
  // The reservation decides the bounds checks compiled in (and Wasmtime refuses an artifact
  // compiled for another): each value is its own artifact.
  std::string print = std::string("wasmtime") + WOP_WASMTIME_VERSION + "-epoch-speed-nogc";
  if (options_.memoryReservationBytes != 0) {
    print += "-reserve" + std::to_string(options_.memoryReservationBytes) + "-guard" +
             std::to_string(kSmallGuardBytes) + "-fixed";
  }
  return print;
}

uint64_t Engine::memoryReservation() const {
  return options_.memoryReservationBytes != 0 ? options_.memoryReservationBytes
                                              : kWasmtimeDefaultReservation;
}

common::Status Engine::checkMemoryLimit(uint64_t maxMemoryBytes) const {
  if (options_.memoryReservationBytes == 0 || maxMemoryBytes <= options_.memoryReservationBytes) {
    return common::Status::ok();
  }
  return common::Status(common::StatusCode::kFailedPrecondition,
                        "its memory limit of " + mib(maxMemoryBytes) +
                            " is above the guest memory reservation of this host, " +
                            mib(options_.memoryReservationBytes) +
                            " (--guest-memory-reservation-mib): lower the limit or raise the "
                            "reservation");
}

uint64_t Engine::ticksFor(std::chrono::milliseconds limit) const {
  const auto tick = options_.epochTick.count() > 0 ? options_.epochTick.count() : 1;
  const auto ticks = (limit.count() + tick - 1) / tick;
  return ticks > 0 ? static_cast<uint64_t>(ticks) : 1;
}

}  // namespace wop::wasm
