// One define function per ABI domain; abi_v1.cc calls them all.
#pragma once

#include <string>
#include <wasmtime.hh>

#include "common/status.h"
#include "wasm/guarded_host_function.h"

namespace wop::hostcalls {

common::Status defineLog(wasmtime::Linker& linker);        // wop_log
common::Status defineConfig(wasmtime::Linker& linker);     // wop_config_get
common::Status defineDeclare(wasmtime::Linker& linker);    // wop_declare
common::Status defineCache(wasmtime::Linker& linker);      // wop_cache_read
common::Status defineApi(wasmtime::Linker& linker);        // wop_api_call
common::Status defineHttp(wasmtime::Linker& linker);       // wop_http_call
common::Status defineReconcile(wasmtime::Linker& linker);  // wop_reconcile_done, wop_emit_key

// Defines wop.<name> behind the host functions' error boundary (an exception in f traps the
// guest with "wop_<name>: <reason>"), with a Status naming the function if defining fails.
template <typename F>
common::Status defineFunction(wasmtime::Linker& linker, const char* name, F f) {
  auto result = linker.func_wrap("wop", name,
                                 wasm::guardHostFunction(std::string("wop_") + name, std::move(f)));
  if (!result) {
    return common::Status(common::StatusCode::kInternal,
                          std::string("defining wop.") + name + ": " + result.err().message());
  }
  return common::Status::ok();
}

}  // namespace wop::hostcalls
