// What a host function needs from its caller: the calling guest's state (from the store's
// data), a checked view of its memory and its allocator. Built on entry to each host call and
// dropped on return; it must not outlive the call.
#pragma once

#include <any>
#include <optional>
#include <span>
#include <variant>
#include <wasmtime.hh>

#include "wasm/guest_memory.h"
#include "wasm/guest_state.h"

namespace wop::wasm {

class HostCallContext {
 public:
  explicit HostCallContext(wasmtime::Caller& caller) : caller_(caller) {}

  GuestState& state() { return *std::any_cast<GuestState*>(caller_.context().get_data()); }

  // The guest's exported "memory", or nullopt if it exports none.
  std::optional<GuestMemory> memory() {
    std::optional<wasmtime::Memory> memory = state().memory;
    if (!memory) {
      auto exported = caller_.get_export("memory");
      if (auto* found = exported ? std::get_if<wasmtime::Memory>(&*exported) : nullptr) {
        memory = *found;
      }
    }
    if (!memory) return std::nullopt;
    auto data = memory->data(caller_.context());
    return GuestMemory(std::span<uint8_t>(data.data(), data.size()));
  }

  // The guest's exported "wop_alloc", or nullopt if it exports no such function.
  std::optional<wasmtime::Func> alloc() {
    if (state().alloc) return state().alloc;
    auto exported = caller_.get_export("wop_alloc");
    auto* found = exported ? std::get_if<wasmtime::Func>(&*exported) : nullptr;
    if (found == nullptr) return std::nullopt;
    return *found;
  }

 private:
  wasmtime::Caller& caller_;
};

}  // namespace wop::wasm
