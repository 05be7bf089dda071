// Host-side state of one guest instance, reached from host calls through the store's data
// (never through thread-local or global state).
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <string>
#include <wasmtime.hh>

#include "common/limits.h"

namespace wop::wasm {

struct GuestState {
  std::string name;  // the operator or module name, for messages

  // Set by the layer that defines the embedder's host functions (hostcalls) to its own
  // per-instance context; the wasm layer never looks inside.
  void* embedder = nullptr;

  // Set for a guest whose memory maps snapshot layers: true once part of it could not be read
  // (it reads as zero). Host calls then refuse to act on what they read from it.
  const std::atomic<bool>* memoryFault = nullptr;
  bool memoryFaulted() const { return memoryFault != nullptr && memoryFault->load(); }

  // The instance's "memory" and "wop_alloc" exports, looked up once it is created (unset
  // before: a start function's host calls look them up by name). Host calls read and allocate
  // on every call, and Wasmtime's lookup by name hashes the name each time.
  std::optional<wasmtime::Memory> memory;
  std::optional<wasmtime::Func> alloc;

  // What the guest wrote to stdout/stderr, capped; beyond the cap bytes are only counted.
  std::string output;
  size_t droppedOutputBytes = 0;

  void appendOutput(std::string_view bytes) {
    const size_t room =
        limits::kMaxGuestLogBufferBytes - std::min(output.size(), limits::kMaxGuestLogBufferBytes);
    const size_t kept = std::min(room, bytes.size());
    output.append(bytes.substr(0, kept));
    droppedOutputBytes += bytes.size() - kept;
  }
};

}  // namespace wop::wasm
