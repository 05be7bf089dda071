// Every module built with the SDK must load in the host: the ABI v1 exports, and imports only
// from "wop" and the WASI functions the host's shim provides. Catches a libc function that
// pulls in another WASI import (say, fd_read or path_open) the day someone uses it.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>
#include <wasmtime.hh>

#include "wop_abi.h"

namespace {

// The modules sit beside json_roundtrip.wasm, in the build's wasm/ folder.
std::filesystem::path wasmDir() {
  return std::filesystem::path(WOP_JSON_ROUNDTRIP_WASM).parent_path();
}

const std::set<std::string> kWasiProvided = {"fd_write",          "fd_close",   "fd_seek",
                                             "fd_fdstat_get",     "proc_exit",  "environ_get",
                                             "environ_sizes_get", "args_get",   "args_sizes_get",
                                             "clock_time_get",    "random_get", "sched_yield"};
const std::set<std::string> kWopImports = {"log",      "config_get",     "declare", "cache_read",
                                           "api_call", "reconcile_done", "emit_key"};

TEST(SdkModules, ImportOnlyWhatTheHostProvidesAndExportTheAbi) {
  wasmtime::Engine engine;
  for (const char* name : {"ring", "replicator", "counter"}) {
    SCOPED_TRACE(name);
    auto path = wasmDir() / (std::string(name) + ".wasm");
    ASSERT_TRUE(std::filesystem::exists(path)) << path << " (is the whole build done?)";
    std::ifstream file(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), {});
    auto module = wasmtime::Module::compile(engine, bytes);
    ASSERT_TRUE(module) << module.err().message();
    std::set<std::string> exports;
    for (const auto& exported : module.ok().exports()) exports.emplace(exported.name());
    for (const char* required : {WOP_ABI_MARKER, "wop_alloc", "wop_init", "wop_reconcile",
                                 "wop_on_complete", "wop_map", "memory", "_initialize"}) {
      EXPECT_TRUE(exports.count(required)) << required;
    }
    for (const auto& imported : module.ok().imports()) {
      std::string field(imported.name());
      if (imported.module() == WOP_IMPORT_MODULE) {
        EXPECT_TRUE(kWopImports.count(field)) << "wop." << field;
      } else {
        EXPECT_EQ(imported.module(), "wasi_snapshot_preview1");
        EXPECT_TRUE(kWasiProvided.count(field)) << imported.module() << "." << field;
      }
    }
  }
}

}  // namespace
