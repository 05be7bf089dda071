// The swap benchmark's driver (run by bench/swap/run.py; each mode prints one JSON object):
//   sizes    restore and swap-out time against linear memory size (bench/guests/swap_memory.wat)
//   restore  a restore taken apart: map, map + read or write every page, the background check,
//            page cache hot and dropped (restore_bench.cc)
//   dirty    swap-out (a delta) of 87 MiB against the size dirtied since the restore, and restore
//            time against the length of the chain of deltas
//   latency  change-to-reconcile delay, swapped out / resident / prefetched (swap_cluster.cc)
//   memory   host RSS and PSS with N counter operators swapped out or resident (swap_cluster.cc)
//   replay   a recorded trace replayed live against one counter operator under a swap policy
//            (swap_cluster.cc; the simulator of the same is replay_traces.cc)
// sizes and dirty drive the runtime's own pieces directly, with no control plane: the module is
// loaded through wasm::ModuleCache and prepared against the ABI v1 linker as OperatorHost does,
// and guests come from runtime::WasmGuestFactory (saveTo, restore) with services that are never
// called (the guest imports nothing).
#include "swap/swap_bench.h"

#include <filesystem>
#include <iostream>
#include <sstream>

#include "swap/swap_setup.h"

namespace wop::bench::swap {

Json benchSizes(const Args& args) {
  Setup setup(args);
  Json rows = Json::array();
  std::stringstream list(args.sizes);
  for (std::string item; std::getline(list, item, ',');) {
    const double mib = std::stod(item);
    const uint64_t bytes = static_cast<uint64_t>(mib * static_cast<double>(kMiB));
    std::vector<double> swapOut, save, restore, restoreTouch, verify;
    uint64_t written = 0, onDisk = 0;
    for (int s = 0; s < args.saves; ++s) {
      const std::string directory = args.snapshotDir + "/sizes";
      std::filesystem::remove_all(directory);
      snapshot::OperatorSnapshot snap(directory, setup.factory->identity());
      Filled filled = createFilled(setup, bytes, 1000 + s);
      // Swap-out: a first, full save of the filled memory, then the instance dropped.
      auto start = Clock::now();
      auto saved = check(filled.guest->saveTo(snap, false), "saving");
      const double saveMs = msSince(start);
      filled.guest.reset();
      setup.factory->releaseCode({});  // as the runtime does: the module's code goes too
      swapOut.push_back(msSince(start));
      save.push_back(saveMs);
      written = saved.bytesWritten;
      onDisk = diskBytes(directory);
      for (int r = 0; r < args.restores; ++r) {
        start = Clock::now();
        auto plan = check(snap.open(), "opening the snapshot");
        auto guest = setup.restore(snap, plan);
        restore.push_back(msSince(start));
        checkRestored(*guest, filled, 1000 + s);  // outside the timed part
        guest.reset();
        setup.factory->releaseCode({});  // so every restore maps the code back
      }
      // Restore, then a guest that reads one word of every page: the cost a guest that uses
      // its whole memory pays later, page fault by page fault.
      start = Clock::now();
      auto plan = check(snap.open(), "opening the snapshot");
      auto guest = setup.restore(snap, plan);
      const auto sum = static_cast<uint64_t>(callI64(*guest, "bench_touch", {}));
      restoreTouch.push_back(msSince(start));
      if (sum != filled.touchSum) die("bench_touch read other data than was saved");
      // The data checksum check the runtime runs in the background after a restore.
      start = Clock::now();
      check(snapshot::OperatorSnapshot::verifyData(plan), "verifying");
      verify.push_back(msSince(start));
    }
    rows.push_back({{"mib", mib},
                    {"memory_bytes", bytes},
                    {"bytes_written", written},
                    {"disk_bytes", onDisk},
                    {"swapout_ms", summary(swapOut)},
                    {"save_ms", summary(save)},
                    {"restore_ms", summary(restore)},
                    {"restore_touch_all_ms", summary(restoreTouch)},
                    {"verify_data_ms", summary(verify)}});
    std::cerr << "size " << mib << " MiB done\n";
  }
  return {{"sizes", rows}};
}

Json benchDirty(const Args& args) {
  Setup setup(args);
  const uint64_t bytes = 87 * kMiB;
  const std::string directory = args.snapshotDir + "/dirty";
  std::filesystem::remove_all(directory);
  snapshot::OperatorSnapshot base(directory, setup.factory->identity());
  {
    Filled filled = createFilled(setup, bytes, 7);
    (void)check(filled.guest->saveTo(base, false), "saving the base");
  }
  // A full save (a delta of too many runs) removes the base layer; a hard link keeps it.
  const std::string baseLayer = directory + "/1.snap", keep = directory + "/base.keep";
  std::filesystem::create_hard_link(baseLayer, keep);
  auto keepBase = [&] {
    if (!std::filesystem::exists(baseLayer)) std::filesystem::create_hard_link(keep, baseLayer);
  };
  Json rows = Json::array();
  for (const double dirtyMiB : {0.0, 0.25, 1.0, 4.0, 16.0}) {
    for (const std::string pattern : {"contiguous", "scattered"}) {
      if (dirtyMiB == 0 && pattern == "scattered") continue;
      const uint32_t pages = static_cast<uint32_t>(dirtyMiB * static_cast<double>(kMiB) / kPage);
      const uint32_t stride = pattern == "contiguous" || pages == 0
                                  ? kPage
                                  : static_cast<uint32_t>(bytes / pages / kPage * kPage);
      std::vector<double> swapOut, save, restore;
      uint64_t written = 0, full = 0, runs = 0;
      for (int r = 0; r < args.reps; ++r) {
        // Every repetition starts from the one-layer chain: the common case of an operator
        // restored from a full snapshot that then swaps out again.
        keepBase();
        snapshot::OperatorSnapshot snap = base;
        auto start = Clock::now();
        auto plan = check(snap.open(), "opening the snapshot");
        auto guest = setup.restore(snap, plan);
        restore.push_back(msSince(start));
        (void)callI64(*guest, "bench_dirty",
                      {wasmtime::Val(int32_t{4096}), wasmtime::Val(static_cast<int32_t>(pages)),
                       wasmtime::Val(static_cast<int32_t>(stride))});
        start = Clock::now();
        auto saved = check(guest->saveTo(snap, true), "saving a delta");
        save.push_back(msSince(start));
        guest.reset();
        setup.factory->releaseCode({});
        swapOut.push_back(msSince(start));
        written = saved.bytesWritten;
        full += saved.full ? 1 : 0;
        runs = pattern == "contiguous" ? 1 : pages;
      }
      rows.push_back({{"dirty_mib", dirtyMiB},
                      {"pattern", pattern},
                      {"dirty_pages", pages},
                      {"runs", runs},
                      {"bytes_written", written},
                      {"full_saves", full},
                      {"swapout_ms", summary(swapOut)},
                      {"save_ms", summary(save)},
                      {"restore_ms", summary(restore)}});
    }
  }
  // A chain: each cycle restores, dirties 1 MiB as 256 scattered pages, swaps out. The chain
  // grows by one delta per cycle until kMaxLayers, when the save is a full one.
  Json chain = Json::array();
  keepBase();
  snapshot::OperatorSnapshot snap = base;
  for (int cycle = 0; cycle < 3 * static_cast<int>(snapshot::kMaxLayers); ++cycle) {
    const size_t layers = snap.layers();
    std::vector<double> restoreSamples;
    std::unique_ptr<runtime::WasmOperatorGuest> guest;
    for (int r = 0; r < 10; ++r) {
      guest.reset();
      setup.factory->releaseCode({});
      auto start = Clock::now();
      auto plan = check(snap.open(), "opening the chain");
      guest = setup.restore(snap, plan);
      restoreSamples.push_back(msSince(start));
    }
    (void)callI64(*guest, "bench_dirty",
                  {wasmtime::Val(static_cast<int32_t>(4096 + cycle * 8 * kPage)),
                   wasmtime::Val(int32_t{256}), wasmtime::Val(static_cast<int32_t>(80 * kPage))});
    auto start = Clock::now();
    auto saved = check(guest->saveTo(snap, true), "saving a delta");
    guest.reset();
    chain.push_back({{"cycle", cycle},
                     {"layers_before", layers},
                     {"restore_ms", summary(restoreSamples)},
                     {"swapout_ms", msSince(start)},
                     {"full", saved.full},
                     {"bytes_written", saved.bytesWritten}});
  }
  return {{"memory_bytes", bytes}, {"dirty", rows}, {"chain", chain}};
}

}  // namespace wop::bench::swap

int main(int argc, char** argv) {
  using namespace wop::bench::swap;
  Args args;
  args.mode = argc > 1 ? argv[1] : "";
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--kubeconfig")
      args.kubeconfig = value;
    else if (flag == "--operator-wasm")
      args.operatorWasm = value;
    else if (flag == "--wasm-dir")
      args.wasmDir = value;
    else if (flag == "--source-dir")
      args.sourceDir = value;
    else if (flag == "--artifacts")
      args.artifacts = value;
    else if (flag == "--snapshot-dir")
      args.snapshotDir = value;
    else if (flag == "--sizes")
      args.sizes = value;
    else if (flag == "--saves")
      args.saves = std::stoi(value);
    else if (flag == "--restores")
      args.restores = std::stoi(value);
    else if (flag == "--cold-restores")
      args.coldRestores = std::stoi(value);
    else if (flag == "--reps")
      args.reps = std::stoi(value);
    else if (flag == "--changes")
      args.changes = std::stoi(value);
    else if (flag == "--operators")
      args.operators = std::stoi(value);
    else if (flag == "--active")
      args.active = std::stoi(value);
    else if (flag == "--shared-namespace")
      args.sharedNamespace = value == "on";
    else if (flag == "--marginal")
      args.marginal = std::stoi(value);
    else if (flag == "--idle-ms")
      args.idleMs = std::stoi(value);
    else if (flag == "--period-ms")
      args.periodMs = std::stoi(value);
    else if (flag == "--swap")
      args.swap = value == "on";
    else if (flag == "--predict")
      args.predict = value == "on";
    else if (flag == "--trace")
      args.trace = value;
    else if (flag == "--speedup")
      args.speedup = std::stod(value);
    else if (flag == "--events")
      args.events = std::stoi(value);
    else if (flag == "--policy")
      args.policy = value;
    else {
      std::cerr << "unknown flag " << flag << "\n";
      return 2;
    }
  }
  Json result;
  if (args.mode == "sizes")
    result = benchSizes(args);
  else if (args.mode == "dirty")
    result = benchDirty(args);
  else if (args.mode == "restore")
    result = benchRestore(args);
  else if (args.mode == "latency")
    result = benchLatency(args);
  else if (args.mode == "memory")
    result = benchMemory(args);
  else if (args.mode == "replay")
    result = benchReplay(args);
  else {
    std::cerr << "usage: swap_bench sizes|dirty|restore|latency|memory|replay --source-dir D "
                 "--artifacts A "
                 "--snapshot-dir S ...\n";
    return 2;
  }
  std::cout << result.dump() << std::endl;
  std::_Exit(0);  // the process is measured, not its teardown
}
