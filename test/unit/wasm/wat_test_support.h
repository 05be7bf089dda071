// Turns WebAssembly text into a GuestModule, for tests that need small (often hostile) guests.
#pragma once

#include <gtest/gtest.h>

#include <string_view>
#include <wasmtime.hh>

#include "wasm/guest_module.h"

namespace wop::wasm {

inline common::Result<GuestModule> compileWat(Engine& engine, std::string_view wat) {
  auto bytes = wasmtime::wat2wasm(wat);
  if (!bytes) {
    ADD_FAILURE() << "bad test WAT: " << bytes.err().message();
    return common::Status(common::StatusCode::kInternal, "bad test WAT");
  }
  return GuestModule::compile(engine, bytes.unwrap(), "test.wat");
}

}  // namespace wop::wasm
