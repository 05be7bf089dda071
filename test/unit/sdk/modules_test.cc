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

#include "hostcalls/abi_v1.h"
#include "wasm/wasi_shim.h"
#include "wop_abi.h"

namespace {

// The modules sit beside json_roundtrip.wasm, in the build's wasm/ folder.
std::filesystem::path wasmDir() {
  return std::filesystem::path(WOP_JSON_ROUNDTRIP_WASM).parent_path();
}

// Checks one module of wasmDir(). Reactors built by clang export _initialize; the Rust SDK's
// cdylib modules have no static constructors, and so no _initialize (docs/sdk-rust.md).
void expectLoadable(const std::string& name, bool exportsInitialize) {
  SCOPED_TRACE(name);
  wasmtime::Engine engine;
  auto path = wasmDir() / (name + ".wasm");
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " (is the whole build done?)";
  std::ifstream file(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), {});
  auto module = wasmtime::Module::compile(engine, bytes);
  ASSERT_TRUE(module) << module.err().message();
  std::set<std::string> exports;
  for (const auto& exported : module.ok().exports()) exports.emplace(exported.name());
  // What the host itself requires and provides, not a copy of it.
  const auto host = wop::hostcalls::abiV1Requirements(64u << 20);
  std::vector<std::string> required = host.requiredExports;
  required.insert(required.end(), {host.abiMarker, "wop_map", "memory"});
  if (exportsInitialize) required.emplace_back("_initialize");
  for (const auto& name : required) EXPECT_TRUE(exports.count(name)) << name;
  for (const auto& imported : module.ok().imports()) {
    const std::string from(imported.module());
    const std::string field(imported.name());
    EXPECT_TRUE(from == WOP_IMPORT_MODULE ? host.providesImport(from, field)
                                          : wop::wasm::isWasiShimImport(from, field))
        << from << "." << field;
  }
}

TEST(SdkModules, ImportOnlyWhatTheHostProvidesAndExportTheAbi) {
  for (const char* name : {"ring", "replicator", "counter", "watcher", "helpers", "indexer"}) {
    expectLoadable(name, /*exportsInitialize=*/true);
  }
}

TEST(SdkModules, RustModulesImportOnlyWhatTheHostProvidesAndExportTheAbi) {
  expectLoadable("ring-rust", /*exportsInitialize=*/false);
}

}  // namespace
