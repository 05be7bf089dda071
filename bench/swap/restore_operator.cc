// swap_bench restore --operator-wasm FLEET_WASM: map + the first reconcile of a real operator
// (issue 16). The fleet benchmark's operator (bench/guests/fleet/fleet.cc) with an index of the
// size measured is started, saved, and then, per sample, restored as Swapper::restore does it and
// entered for one reconcile, timed to the return of that entry: its cache read, its index lookups
// (each on a page of its own) and the patch it issues. Beside it, the same reconcile of the same
// operator that never left memory: what the restore adds to the entry.
//
// The entry's host calls are answered here as the host answers them inside an entry: the
// ConfigMap read comes from memory (the host's informer cache), and the patch is issued and not
// sent (the host sends it after the entry returns). No control plane: the API server's part of
// a wake-up is not what this measures (the ring and fleet benchmarks have it).
#include "swap/restore_operator.h"

namespace wop::bench::swap {
namespace {

constexpr const char* kKey = "fleet-0/changed";

// The one ConfigMap the operator reads: its "step" label picks the keys it looks up.
constexpr const char* kConfigMap =
    R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"changed","namespace":"fleet-0",)"
    R"("resourceVersion":"7","labels":{"step":"3"}},"data":{}})";

}  // namespace

std::string OperatorEntryServices::config() {
  return R"({"namespace":"fleet-0","indexKiB":)" + std::to_string(indexKiB) + "}";
}

hostcalls::HostResult<std::string> OperatorEntryServices::cacheRead(std::string_view) {
  cacheReads++;
  return std::string(kConfigMap);
}

hostcalls::HostResult<uint32_t> OperatorEntryServices::apiCall(std::string_view request) {
  if (request.find("fleet.wasm-operator.dev/sum") == std::string_view::npos)
    die("the operator issued another request than its patch: " + std::string(request));
  return ++apiCalls;  // a token; never answered
}

hostcalls::HostResult<int32_t> OperatorEntryServices::reconcileDone(uint32_t, int32_t, int64_t,
                                                                    std::string_view message) {
  die("the reconcile ended before its patch was answered: " + std::string(message));
}

OperatorBench::OperatorBench(const Args& args, uint64_t indexKiB)
    : modules_(engine_, args.artifacts) {
  services_.indexKiB = indexKiB;
  linker_ = check(wasm::GuestLinker::create(engine_, hostcalls::defineAbiV1), "defining the ABI");
  factory_ = capturableFactory(engine_, modules_, *linker_, args.operatorWasm, "restore-operator");
}

uint64_t OperatorBench::start(snapshot::OperatorSnapshot& snap) {
  resident_ = check(factory_->create(services_), "creating the operator");
  check(resident_->init(), "wop_init of the operator (its index is built here)");
  (void)check(resident_->saveTo(snap, false), "saving the operator");
  return resident_->memoryBytes();
}

double OperatorBench::reconcileOnce(runtime::OperatorGuest& guest) {
  const uint32_t issued = services_.apiCalls;
  const auto start = Clock::now();
  check(guest.reconcile(++reconcileId_, 0, kKey), "the reconcile entry");
  const double ms = msSince(start);
  if (services_.apiCalls != issued + 1) die("the reconcile issued no patch");
  return ms;
}

double OperatorBench::residentReconcile() { return reconcileOnce(*resident_); }

void OperatorBench::stopResident() {
  resident_.reset();
  factory_->releaseCode({});
}

double OperatorBench::restoreAndReconcile(const snapshot::OperatorSnapshot& snap) {
  const auto start = Clock::now();
  auto plan = check(snap.open(), "opening the operator's snapshot");
  check(snapshot::OperatorSnapshot::verifyData(plan, snapshot::VerifyScope::kBeforeRun),
        "checking the small layers");
  auto guest = check(factory_->restore(services_, snap, plan), "restoring the operator");
  const double restoreMs = msSince(start);
  const double ms = restoreMs + reconcileOnce(*guest);
  guest.reset();
  factory_->releaseCode({});
  return ms;
}

}  // namespace wop::bench::swap
