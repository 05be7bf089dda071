#include "runtime/wasm_operator_guest.h"

#include <sys/mman.h>

#include <algorithm>
#include <bit>

#include "snapshot/dirty_pages.h"
#include "wop_abi.h"

namespace wop::runtime {
namespace {

using common::Status;
using common::StatusCode;

// ABI v1 entries return one i32 status; anything else breaks the contract.
Status checkStatusResult(const std::vector<wasmtime::Val>& results, const char* name) {
  if (results.size() != 1 || results.front().kind() != wasmtime::ValKind::I32) {
    return Status(StatusCode::kFailedPrecondition, std::string(name) + " must return one i32");
  }
  return Status::ok();
}

}  // namespace

Status WasmOperatorGuest::init() {
  auto results = instance_.enter("wop_init", {});
  if (!results) return results.status();
  if (auto status = checkStatusResult(*results, "wop_init"); !status.isOk()) return status;
  if (results->front().i32() != WOP_OK) {
    return Status(StatusCode::kFailedPrecondition,
                  "wop_init returned " + std::to_string(results->front().i32()) + ", not WOP_OK");
  }
  return Status::ok();
}

Status WasmOperatorGuest::enterWithBytes(const char* name, uint32_t a, int32_t b,
                                         std::string_view bytes) {
  auto ptr = instance_.copyIn(bytes);
  if (!ptr) return ptr.status().withContext(std::string("copying the argument of ") + name + " in");
  auto results = instance_.enter(name, {wasmtime::Val(static_cast<int32_t>(a)), wasmtime::Val(b),
                                        wasmtime::Val(static_cast<int32_t>(*ptr)),
                                        wasmtime::Val(static_cast<int32_t>(bytes.size()))});
  if (!results) return results.status();
  return checkStatusResult(*results, name);
}

Status WasmOperatorGuest::reconcile(uint32_t reconcileId, uint32_t controller,
                                    std::string_view key) {
  // wop_reconcile takes (id, controller, ptr, len): the same shape as the other two.
  return enterWithBytes("wop_reconcile", reconcileId, static_cast<int32_t>(controller), key);
}

Status WasmOperatorGuest::complete(uint32_t token, int32_t httpStatus, std::string_view body) {
  return enterWithBytes("wop_on_complete", token, httpStatus, body);
}

Status WasmOperatorGuest::map(uint32_t controller, uint32_t watch, std::string_view objectJson) {
  return enterWithBytes("wop_map", controller, static_cast<int32_t>(watch), objectJson);
}

common::Result<snapshot::SaveResult> WasmOperatorGuest::saveTo(snapshot::OperatorSnapshot& snapshot,
                                                               bool restoredFromChain) {
  std::vector<snapshot::GlobalValue> globals;
  for (const auto& name : capturedGlobals_) {
    auto value = instance_.exportedGlobal(name);
    if (!value)
      return Status(StatusCode::kFailedPrecondition, "exported global " + name + " is gone");
    snapshot::GlobalValue saved{name, snapshot::GlobalKind::kI32, 0};
    switch (value->kind()) {
      case wasmtime::ValKind::I32:
        saved.bits = static_cast<uint32_t>(value->i32());
        break;
      case wasmtime::ValKind::I64:
        saved.kind = snapshot::GlobalKind::kI64;
        saved.bits = static_cast<uint64_t>(value->i64());
        break;
      case wasmtime::ValKind::F32:
        saved.kind = snapshot::GlobalKind::kF32;
        saved.bits = std::bit_cast<uint32_t>(value->f32());
        break;
      case wasmtime::ValKind::F64:
        saved.kind = snapshot::GlobalKind::kF64;
        saved.bits = std::bit_cast<uint64_t>(value->f64());
        break;
      default:
        return Status(StatusCode::kFailedPrecondition,
                      "exported global " + name + " has a type snapshots do not hold");
    }
    globals.push_back(std::move(saved));
  }
  return snapshot.save(instance_.memory(), globals, restoredFromChain);
}

Status WasmOperatorGuest::restoreGlobals(const std::vector<snapshot::GlobalValue>& globals) {
  for (const auto& g : globals) {
    wasmtime::Val value(static_cast<int32_t>(g.bits));
    switch (g.kind) {
      case snapshot::GlobalKind::kI32:
        break;
      case snapshot::GlobalKind::kI64:
        value = wasmtime::Val(static_cast<int64_t>(g.bits));
        break;
      case snapshot::GlobalKind::kF32:
        value = wasmtime::Val(std::bit_cast<float>(static_cast<uint32_t>(g.bits)));
        break;
      case snapshot::GlobalKind::kF64:
        value = wasmtime::Val(std::bit_cast<double>(g.bits));
        break;
    }
    if (auto status = instance_.setExportedGlobal(g.name, value); !status.isOk()) return status;
  }
  return Status::ok();
}

namespace {

// Unmaps the pages of a parked module's image that are the artifact file's own (clean): they
// stay in the page cache and fault back in as the code runs, so a parked module costs no
// resident code. Pages written in this process (anonymous: copy-on-write, as relocations would
// be, or an image copied to the heap) are kept: they exist nowhere else. That test is what
// makes the whole pages at either end safe to include too. When the pages cannot be told
// apart, all are kept.
void giveBackCleanPages(std::span<const uint8_t> image) {
  const auto first =
      reinterpret_cast<uintptr_t>(image.data()) / snapshot::kPageBytes * snapshot::kPageBytes;
  const auto end =
      (reinterpret_cast<uintptr_t>(image.data()) + image.size() + snapshot::kPageBytes - 1) /
      snapshot::kPageBytes * snapshot::kPageBytes;
  if (end <= first) return;
  auto* base = reinterpret_cast<uint8_t*>(first);
  const uint64_t pages = (end - first) / snapshot::kPageBytes;
  auto written = snapshot::privatelyWrittenPages(base, pages * snapshot::kPageBytes);
  if (!written) return;
  written->push_back({pages, 0});  // the end, so the last clean stretch is given back too
  uint64_t next = 0;
  for (const auto& run : *written) {
    if (run.firstPage > next) {
      ::madvise(base + next * snapshot::kPageBytes, (run.firstPage - next) * snapshot::kPageBytes,
                MADV_DONTNEED);
    }
    next = run.firstPage + run.pageCount;
  }
}

std::vector<std::string> capturedGlobalsOf(const wasm::GuestModule& module) {
  const auto& state = module.capturableState();
  return state ? state->exportedMutableGlobals : std::vector<std::string>{};
}

}  // namespace

WasmGuestFactory::WasmGuestFactory(wasm::Engine& engine, wasm::PreparedModule module,
                                   wasm::InstanceLimits limits, std::string name, Reload reload,
                                   Park park)
    : engine_(engine),
      limits_(limits),
      name_(std::move(name)),
      reload_(std::move(reload)),
      park_(std::move(park)),
      identity_(module.module().identity()),
      sourceDigest_(module.module().sourceDigest()),
      capturable_(module.module().capturableState().status()),
      capturedGlobals_(capturedGlobalsOf(module.module())) {
  module_.emplace(std::move(module));
}

uint64_t WasmGuestFactory::residentCodeBytes() const {
  if (!module_) return 0;
  const wasm::GuestModule& module = module_->module();
  return module.imageBytes() / static_cast<uint64_t>(std::max(1L, module.imageHolders()));
}

void WasmGuestFactory::releaseCode(const common::WakeGuess& dueBack) {
  if (!reload_ || !module_) return;
  const wasm::GuestModule& module = module_->module();
  // Parked only by its last operator: a parked reference would count as one more holder of a
  // module others run, halving their share of its code in the memory budget. Nobody runs the
  // code until the next restore, so its pages go back. (Mapping them in again in one
  // MADV_POPULATE_READ at the reload made restores slower than letting the guest fault in
  // what it runs: 0.54 ms against 0.44, ring N = 100, idle 0.)
  if (park_ && module.imageHolders() == 1 && park_(module, dueBack)) {
    giveBackCleanPages(module.image());
  }
  module_.reset();
}

Status WasmGuestFactory::ensureLoaded() {
  if (module_) return Status::ok();
  auto reloaded = reload_();
  if (!reloaded) return reloaded.status();
  module_.emplace(std::move(*reloaded));
  return Status::ok();
}

common::Result<std::unique_ptr<OperatorGuest>> WasmGuestFactory::create(
    hostcalls::OperatorServices& services) {
  if (auto loaded = ensureLoaded(); !loaded.isOk()) return loaded;
  auto instance = wasm::GuestInstance::create(engine_, *module_, limits_, &services);
  if (!instance) return instance.status();
  instance->state().name = name_;
  return std::unique_ptr<OperatorGuest>(
      std::make_unique<WasmOperatorGuest>(std::move(*instance), capturedGlobals_));
}

common::Result<std::unique_ptr<OperatorGuest>> WasmGuestFactory::restore(
    hostcalls::OperatorServices& services, const snapshot::OperatorSnapshot& snapshot,
    const snapshot::RestorePlan& plan) {
  if (auto loaded = ensureLoaded(); !loaded.isOk()) return loaded;
  // No _initialize: its effects are in the snapshot, which replaces the whole memory.
  auto instance =
      wasm::GuestInstance::create(engine_, *module_, limits_, &services, /*runInitializer=*/false);
  if (!instance) return instance.status();
  instance->state().name = name_;
  if (auto grown = instance->growMemoryTo(plan.memoryBytes()); !grown.isOk()) return grown;
  // Watched before anything can touch the mapping: a layer that shrinks under it (or a hole on
  // a full tmpfs) then faults this guest, not the host.
  auto guard = snapshot::MappedMemoryGuard::watch(instance->memory().data(), plan.memoryBytes());
  if (!guard) return guard.status();
  instance->state().memoryFault = (*guard)->faultFlag();
  if (auto mapped = snapshot.map(plan, instance->memory().data()); !mapped.isOk()) return mapped;
  auto guest = std::make_unique<WasmOperatorGuest>(std::move(*instance), capturedGlobals_,
                                                   plan.lease(), std::move(*guard));
  if (auto globals = guest->restoreGlobals(plan.globals()); !globals.isOk()) return globals;
  return std::unique_ptr<OperatorGuest>(std::move(guest));
}

}  // namespace wop::runtime
