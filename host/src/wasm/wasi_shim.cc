#include "wasm/wasi_shim.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <random>

#include "common/limits.h"
#include "wasm/guarded_host_function.h"
#include "wasm/guest_state.h"
#include "wasm/host_call_context.h"

namespace wop::wasm {
namespace {

// WASI errno values used here (wasi_snapshot_preview1).
constexpr int32_t kErrnoSuccess = 0;
constexpr int32_t kErrnoBadf = 8;
constexpr int32_t kErrnoFault = 21;
constexpr int32_t kErrnoInval = 28;
constexpr int32_t kErrnoSpipe = 70;

constexpr std::array<std::string_view, 12> kShimFunctions = {
    "fd_write",       "fd_close",       "fd_seek",           "fd_fdstat_get",
    "proc_exit",      "environ_get",    "environ_sizes_get", "args_get",
    "args_sizes_get", "clock_time_get", "random_get",        "sched_yield"};

bool isStdio(int32_t fd) { return fd == 1 || fd == 2; }

int32_t fdWrite(wasmtime::Caller caller, int32_t fd, int32_t iovs, int32_t iovsLen,
                int32_t nwrittenPtr) {
  if (!isStdio(fd)) return kErrnoBadf;
  HostCallContext call(caller);
  auto memory = call.memory();
  if (!memory) return kErrnoFault;
  if (static_cast<uint32_t>(iovsLen) > limits::kMaxGuestIovecs) return kErrnoInval;
  uint32_t total = 0;
  for (uint32_t i = 0; i < static_cast<uint32_t>(iovsLen); ++i) {
    const uint32_t entry = static_cast<uint32_t>(iovs) + i * 8;
    auto base = memory->readU32(entry);
    auto len = memory->readU32(entry + 4);
    if (!base || !len || entry < static_cast<uint32_t>(iovs)) return kErrnoFault;
    if (*len > limits::kMaxGuestLogWriteBytes - total) return kErrnoInval;
    auto text = memory->readString(*base, *len);
    if (!text) return kErrnoFault;
    call.state().appendOutput(*text);
    total += *len;
  }
  return memory->writeU32(static_cast<uint32_t>(nwrittenPtr), total) ? kErrnoSuccess : kErrnoFault;
}

int32_t writeTwoZeros(wasmtime::Caller caller, int32_t countPtr, int32_t sizePtr) {
  HostCallContext call(caller);
  auto memory = call.memory();
  if (!memory) return kErrnoFault;
  const bool ok = memory->writeU32(static_cast<uint32_t>(countPtr), 0) &&
                  memory->writeU32(static_cast<uint32_t>(sizePtr), 0);
  return ok ? kErrnoSuccess : kErrnoFault;
}

int32_t clockTimeGet(wasmtime::Caller caller, int32_t clockId, int64_t /*precision*/,
                     int32_t timePtr) {
  uint64_t nanos = 0;
  if (clockId == 0) {  // realtime
    nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  } else if (clockId == 1) {  // monotonic
    nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::steady_clock::now().time_since_epoch())
                .count();
  } else {
    return kErrnoInval;
  }
  HostCallContext call(caller);
  auto memory = call.memory();
  if (!memory) return kErrnoFault;
  return memory->writeU64(static_cast<uint32_t>(timePtr), nanos) ? kErrnoSuccess : kErrnoFault;
}

int32_t randomGet(wasmtime::Caller caller, int32_t buf, int32_t len) {
  if (static_cast<uint32_t>(len) > limits::kMaxGuestLogWriteBytes) return kErrnoInval;
  std::vector<uint8_t> bytes(static_cast<uint32_t>(len));
  std::random_device device;
  for (auto& b : bytes) b = static_cast<uint8_t>(device());
  HostCallContext call(caller);
  auto memory = call.memory();
  if (!memory) return kErrnoFault;
  return memory->write(static_cast<uint32_t>(buf), bytes) ? kErrnoSuccess : kErrnoFault;
}

template <typename F>
common::Status define(wasmtime::Linker& linker, std::string_view name, F f) {
  auto result = linker.func_wrap(kWasiModule, name,
                                 guardHostFunction("WASI " + std::string(name), std::move(f)));
  if (!result) {
    return common::Status(common::StatusCode::kInternal, "defining WASI shim " + std::string(name) +
                                                             ": " + result.err().message());
  }
  return common::Status::ok();
}

}  // namespace

bool isWasiShimImport(std::string_view module, std::string_view name) {
  return module == kWasiModule &&
         std::find(kShimFunctions.begin(), kShimFunctions.end(), name) != kShimFunctions.end();
}

common::Status defineWasiShim(wasmtime::Linker& linker) {
  using wasmtime::Caller;
  common::Status statuses[] = {
      define(linker, "fd_write", fdWrite),
      define(linker, "fd_close", [](int32_t) -> int32_t { return kErrnoBadf; }),
      define(linker, "fd_seek",
             [](int32_t fd, int64_t, int32_t, int32_t) -> int32_t {
               return isStdio(fd) ? kErrnoSpipe : kErrnoBadf;
             }),
      define(linker, "fd_fdstat_get", [](int32_t, int32_t) -> int32_t { return kErrnoBadf; }),
      define(linker, "proc_exit",
             [](Caller caller, int32_t code) -> wasmtime::Result<std::monostate, wasmtime::Trap> {
               HostCallContext call(caller);
               return wasmtime::Trap("guest " + call.state().name + " called proc_exit(" +
                                     std::to_string(code) + ")");
             }),
      define(linker, "environ_get", [](int32_t, int32_t) -> int32_t { return kErrnoSuccess; }),
      define(linker, "environ_sizes_get", writeTwoZeros),
      define(linker, "args_get", [](int32_t, int32_t) -> int32_t { return kErrnoSuccess; }),
      define(linker, "args_sizes_get", writeTwoZeros),
      define(linker, "clock_time_get", clockTimeGet),
      define(linker, "random_get", randomGet),
      define(linker, "sched_yield", []() -> int32_t { return kErrnoSuccess; }),
  };
  for (auto& status : statuses) {
    if (!status.isOk()) return status;
  }
  return common::Status::ok();
}

}  // namespace wop::wasm
