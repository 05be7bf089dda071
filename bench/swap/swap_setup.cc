#include "swap/swap_setup.h"

#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace wop::bench::swap {

void die(const std::string& what) {
  std::cerr << "swap_bench: " << what << "\n";
  std::exit(1);
}

void check(const common::Status& status, const std::string& what) {
  if (!status.isOk()) die(what + ": " + status.toString());
}

uint64_t splitmix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Setup::Setup(const Args& args) : modules(engine, args.artifacts) {
  std::ifstream in(args.sourceDir + "/bench/guests/swap_memory.wat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto bytes = wasmtime::wat2wasm(text).unwrap();
  const std::string path = args.artifacts + "/swap_memory.wasm";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  linker = check(wasm::GuestLinker::create(engine, hostcalls::defineAbiV1), "defining the ABI");
  factory = capturableFactory(engine, modules, *linker, path, "swap-bench");
}

std::unique_ptr<runtime::WasmGuestFactory> capturableFactory(wasm::Engine& engine,
                                                             wasm::ModuleCache& modules,
                                                             wasm::GuestLinker& linker,
                                                             const std::string& path,
                                                             const std::string& name) {
  auto module =
      check(modules.load(path, hostcalls::abiV1Requirements(kMaxMemory)), "loading " + path);
  check(module.capturableState().status(), path + " is not capturable");
  auto prepared = check(linker.prepare(module), "preparing " + path);
  // Reloads the module from its artifact after releaseCode(), as OperatorHost::add sets up:
  // every restore measured includes mapping the compiled code back.
  auto reload = [&modules, &linker, identity = module.identity(),
                 path]() -> common::Result<wasm::PreparedModule> {
    auto again = modules.reload(identity, path);
    if (!again) return again.status();
    return linker.prepare(*again);
  };
  return std::make_unique<runtime::WasmGuestFactory>(
      engine, std::move(prepared), wasm::InstanceLimits{kMaxMemory, std::chrono::seconds(10)}, name,
      reload);
}

std::unique_ptr<runtime::WasmOperatorGuest> Setup::create() {
  auto guest = check(factory->create(services), "creating a guest");
  return std::unique_ptr<runtime::WasmOperatorGuest>(
      static_cast<runtime::WasmOperatorGuest*>(guest.release()));
}

std::unique_ptr<runtime::WasmOperatorGuest> Setup::restore(const snapshot::OperatorSnapshot& snap,
                                                           const snapshot::RestorePlan& plan) {
  auto guest = check(factory->restore(services, snap, plan), "restoring");
  return std::unique_ptr<runtime::WasmOperatorGuest>(
      static_cast<runtime::WasmOperatorGuest*>(guest.release()));
}

int64_t callI64(runtime::WasmOperatorGuest& guest, const char* name,
                std::vector<wasmtime::Val> args) {
  auto results = check(guest.instance().enter(name, args), std::string("calling ") + name);
  return results.front().kind() == wasmtime::ValKind::I64 ? results.front().i64()
                                                          : results.front().i32();
}

Filled createFilled(Setup& setup, uint64_t bytes, uint64_t seed) {
  Filled filled{setup.create()};
  check(filled.guest->instance().growMemoryTo(bytes), "growing memory");
  auto memory = filled.guest->instance().memory();
  uint64_t state = seed;
  for (uint64_t offset = 0; offset + 8 <= memory.size(); offset += 8) {
    const uint64_t word = splitmix(state) | 1;
    std::memcpy(memory.data() + offset, &word, 8);
  }
  for (uint64_t offset = 0; offset < memory.size(); offset += kPage) {
    uint64_t word;
    std::memcpy(&word, memory.data() + offset, 8);
    filled.touchSum += word;
  }
  for (uint64_t i = 0; i < 16; ++i) {
    const uint64_t address = (splitmix(state) % (memory.size() / 8)) * 8;
    uint64_t word;
    std::memcpy(&word, memory.data() + address, 8);
    filled.probes.emplace_back(static_cast<uint32_t>(address), word);
  }
  check(filled.guest->instance().setExportedGlobal("bench_generation",
                                                   wasmtime::Val(static_cast<int32_t>(seed))),
        "setting bench_generation");
  return filled;
}

void checkRestored(runtime::WasmOperatorGuest& guest, const Filled& filled, int32_t generation) {
  for (const auto& [address, word] : filled.probes) {
    if (static_cast<uint64_t>(
            callI64(guest, "bench_read", {wasmtime::Val(static_cast<int32_t>(address))})) != word) {
      die("restored memory differs at " + std::to_string(address));
    }
  }
  auto value = guest.instance().exportedGlobal("bench_generation");
  if (!value || value->i32() != generation) die("bench_generation was not restored");
}

uint64_t diskBytes(const std::string& directory) {
  uint64_t total = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(directory, error)) {
    struct stat info{};
    if (::stat(entry.path().c_str(), &info) == 0 && S_ISREG(info.st_mode))
      total += static_cast<uint64_t>(info.st_blocks) * 512;
  }
  return total;
}

}  // namespace wop::bench::swap
