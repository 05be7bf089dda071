// swap_bench restore: what a restore costs, taken apart (issue 16). For each memory size and
// with the page cache hot or dropped, the time of
//   map          what Swapper::restore does: open the snapshot, check the layers of at most
//                kVerifyBeforeRunBytes (snapshot/operator_snapshot.h) before the guest runs,
//                map memory and the compiled code back; no page of memory is read yet
//   map_read     map, then the guest reads one word of every page (bench_touch)
//   map_write    map, then the guest writes one word of every page (bench_dirty)
//   map_reconcile  with --operator-wasm: map, then a real operator's first reconcile
//                (restore_operator.cc), beside the same reconcile resident
// each of a snapshot whose layers are not yet known good (forgetChecks), as after a swap-out,
// and the check of the bigger layers the runtime runs after the guest is back (Swapper::checkRest,
// kAfterRun) with its own CPU time and the bytes it read from storage. The bare floor of the
// same operations on a plain file is bench/swap/restore_floor.c, run beside this by run.py.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "swap/restore_operator.h"
#include "swap/swap_bench.h"
#include "swap/swap_setup.h"

namespace wop::bench::swap {
namespace {

// Writes the page cache's dirty pages out and drops the clean ones (needs root), so the next
// read of the snapshot and of the compiled artifact comes from storage.
void dropPageCache() {
  ::sync();
  std::ofstream drop("/proc/sys/vm/drop_caches");
  drop << "1\n";
  drop.flush();
  if (!drop) die("cannot write /proc/sys/vm/drop_caches (root is needed for the cold runs)");
}

// Bytes this process has caused to be read from storage (/proc/self/io read_bytes).
uint64_t storageReadBytes() {
  std::ifstream io("/proc/self/io");
  std::string key;
  uint64_t value = 0;
  while (io >> key >> value) {
    if (key == "read_bytes:") return value;
  }
  return 0;
}

double threadCpuMs() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

// Touches every file under directory (its modification time), so that the next restore checks
// the layers' data as the first restore after a swap-out does: the host checks a layer once
// while its file is unchanged (DataCheck), and a restore of the same unchanged layer again, as
// every sample here is, would measure the skip instead.
void forgetChecks(const std::string& directory) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(directory)) {
    if (!entry.is_regular_file()) continue;
    if (::utimensat(AT_FDCWD, entry.path().c_str(), nullptr, 0) != 0)
      die("cannot touch " + entry.path().string());
  }
}

// Before each sample: layers not yet checked, and with cold, nothing in the page cache.
void prepareSample(const std::string& directory, bool cold) {
  forgetChecks(directory);
  if (cold) dropPageCache();
}

enum class Touch { kNone, kRead, kWrite };

// One restore as the swapper does it, then the guest touching its pages; returns the time.
double timedRestore(Setup& setup, snapshot::OperatorSnapshot& snap, const Filled& filled,
                    uint64_t bytes, Touch touch) {
  const auto start = Clock::now();
  auto plan = check(snap.open(), "opening the snapshot");
  check(snapshot::OperatorSnapshot::verifyData(plan, snapshot::VerifyScope::kBeforeRun),
        "checking the small layers");
  auto guest = setup.restore(snap, plan);
  uint64_t sum = 0;
  if (touch == Touch::kRead) sum = static_cast<uint64_t>(callI64(*guest, "bench_touch", {}));
  if (touch == Touch::kWrite) {
    const auto pages = static_cast<int32_t>(bytes / kPage);
    (void)callI64(*guest, "bench_dirty",
                  {wasmtime::Val(int32_t{0}), wasmtime::Val(pages),
                   wasmtime::Val(static_cast<int32_t>(kPage))});
  }
  const double ms = msSince(start);
  if (touch == Touch::kRead && sum != filled.touchSum) die("bench_touch read other data");
  guest.reset();
  setup.factory->releaseCode({});  // the next restore maps the code back too
  return ms;
}

}  // namespace

Json benchRestore(const Args& args) {
  Setup setup(args);
  Json rows = Json::array();
  std::stringstream list(args.sizes);
  for (std::string item; std::getline(list, item, ',');) {
    const double mib = std::stod(item);
    const uint64_t bytes = static_cast<uint64_t>(mib * static_cast<double>(kMiB));
    const std::string directory = args.snapshotDir + "/restore";
    std::filesystem::remove_all(directory);
    snapshot::OperatorSnapshot snap(directory, setup.factory->identity());
    Filled filled = createFilled(setup, bytes, 77);
    (void)check(filled.guest->saveTo(snap, false), "saving");
    filled.guest.reset();
    setup.factory->releaseCode({});
    // A real operator of about this size (restore_operator.cc), when its module is given.
    std::unique_ptr<OperatorBench> op;
    std::unique_ptr<snapshot::OperatorSnapshot> opSnap;
    uint64_t opMemory = 0;
    std::vector<double> residentReconcile;
    if (!args.operatorWasm.empty()) {
      std::filesystem::remove_all(args.snapshotDir + "/operator");
      op = std::make_unique<OperatorBench>(args, bytes >> 10);
      opSnap = std::make_unique<snapshot::OperatorSnapshot>(args.snapshotDir + "/operator",
                                                            op->identity());
      opMemory = op->start(*opSnap);
      for (int s = 0; s < args.restores; ++s) residentReconcile.push_back(op->residentReconcile());
      op->stopResident();
    }
    for (const bool cold : {false, true}) {
      const int samples = cold ? args.coldRestores : args.restores;
      std::vector<double> map, mapRead, mapWrite, verify, verifyCpu, verifyRead, mapReconcile;
      for (int s = 0; s < samples; ++s) {
        if (op) {
          prepareSample(args.snapshotDir + "/operator", cold);
          mapReconcile.push_back(op->restoreAndReconcile(*opSnap));
        }
        for (Touch touch : {Touch::kNone, Touch::kRead, Touch::kWrite}) {
          prepareSample(directory, cold);
          const double ms = timedRestore(setup, snap, filled, bytes, touch);
          (touch == Touch::kNone ? map : touch == Touch::kRead ? mapRead : mapWrite).push_back(ms);
        }
        prepareSample(directory, cold);
        auto plan = check(snap.open(), "opening the snapshot");
        const uint64_t readBefore = storageReadBytes();
        const double cpuBefore = threadCpuMs();
        const auto start = Clock::now();
        check(snapshot::OperatorSnapshot::verifyData(plan, snapshot::VerifyScope::kAfterRun),
              "verifying");
        verify.push_back(msSince(start));
        verifyCpu.push_back(threadCpuMs() - cpuBefore);
        verifyRead.push_back(static_cast<double>(storageReadBytes() - readBefore));
      }
      rows.push_back({{"mib", mib},
                      {"memory_bytes", bytes},
                      {"cache", cold ? "cold" : "hot"},
                      {"samples", samples},
                      {"map_ms", summary(map)},
                      {"map_read_ms", summary(mapRead)},
                      {"map_write_ms", summary(mapWrite)},
                      {"verify_after_run_ms", summary(verify)},
                      {"verify_after_run_cpu_ms", summary(verifyCpu)},
                      {"verify_after_run_storage_read_bytes", summary(verifyRead)}});
      if (op) {
        rows.back()["operator_memory_bytes"] = opMemory;
        rows.back()["operator_index_kib"] = bytes >> 10;
        rows.back()["map_reconcile_ms"] = summary(mapReconcile);
        rows.back()["reconcile_resident_ms"] = summary(residentReconcile);
      }
      std::cerr << "restore " << mib << " MiB " << (cold ? "cold" : "hot") << " done\n";
    }
  }
  return {{"restore", rows}, {"verify_before_run_max_bytes", snapshot::kVerifyBeforeRunBytes}};
}

}  // namespace wop::bench::swap
