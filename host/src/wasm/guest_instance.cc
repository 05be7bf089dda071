#include "wasm/guest_instance.h"

#include <algorithm>
#include <any>

#include "common/limits.h"
#include "wasm/guest_memory.h"
#include "wasm/wasi_shim.h"

namespace wop::wasm {
namespace {

using common::Status;
using common::StatusCode;

Status trapStatus(const wasmtime::TrapError& error, const std::string& what,
                  std::chrono::milliseconds limit) {
  if (const auto* trap = std::get_if<wasmtime::Trap>(&error.data)) {
    if (trap->code() == WASMTIME_TRAP_CODE_INTERRUPT) {
      return Status(StatusCode::kDeadlineExceeded,
                    what + " exceeded its time limit of " + std::to_string(limit.count()) + " ms");
    }
  }
  return Status(StatusCode::kAborted, what + " trapped: " + error.message());
}

// Why instantiation failed. Without a start function no guest code runs: the failure (a link
// error, a store limit, a data or element segment out of bounds) is the module's and would
// recur on every try, so it says kFailedPrecondition. A trap in a start function is the
// guest's, like any other trap.
Status instantiationStatus(const wasmtime::TrapError& error, const GuestModule& module,
                           const std::string& context, const InstanceLimits& limits) {
  const bool trapped = std::holds_alternative<wasmtime::Trap>(error.data);
  if (trapped && module.instantiationRunsCode()) {
    return trapStatus(error, context, limits.maxEntryTime);
  }
  std::string message = error.message();
  message.erase(std::min(message.find('\n'), message.size()));  // no backtrace
  return Status(StatusCode::kFailedPrecondition,
                context + ": the module cannot be instantiated: " + message);
}

wasmtime::Store makeStore(Engine& engine, GuestState* state, const InstanceLimits& limits) {
  wasmtime::Store store(engine.raw());
  // Every store resource is capped: a table.grow past kMaxGuestTableElements returns -1 to
  // the guest, and an instance needing more tables or memories than these fails to instantiate.
  store.limiter(static_cast<int64_t>(limits.maxMemoryBytes), limits::kMaxGuestTableElements,
                limits::kMaxGuestInstances, limits::kMaxGuestTables, limits::kMaxGuestMemories);
  store.context().set_data(state);
  store.context().set_epoch_deadline(engine.ticksFor(limits.maxEntryTime));
  return store;
}

}  // namespace

common::Result<GuestInstance> GuestInstance::finishCreate(
    GuestInstance instance, const GuestModule& module,
    wasmtime::TrapResult<wasmtime::Instance> created, bool runInitializer) {
  const std::string context = "instantiating " + module.name();
  if (!created) return instantiationStatus(created.err(), module, context, instance.limits_);
  instance.instance_ = created.unwrap();
  instance.state_->memory = instance.exportedMemory();
  if (auto alloc = instance.exportedFunc("wop_alloc")) instance.state_->alloc = *alloc;
  if (runInitializer && module.exportsFunction("_initialize")) {
    auto init = instance.enter("_initialize", {});
    if (!init) return init.status().withContext(context);
  }
  return instance;
}

common::Result<GuestInstance> GuestInstance::create(Engine& engine, const GuestModule& module,
                                                    InstanceLimits limits) {
  if (auto fits = engine.checkMemoryLimit(limits.maxMemoryBytes); !fits.isOk()) {
    return fits.withContext("instantiating " + module.name());
  }
  auto state = std::make_unique<GuestState>();
  state->name = module.name();
  wasmtime::Store store = makeStore(engine, state.get(), limits);
  wasmtime::Linker linker(engine.raw());
  if (auto status = defineWasiShim(linker); !status.isOk()) return status;
  GuestInstance instance(engine, limits, std::move(state), std::move(store));
  auto created = linker.instantiate(instance.store_, module.raw());
  return finishCreate(std::move(instance), module, std::move(created));
}

common::Result<GuestInstance> GuestInstance::create(Engine& engine, const PreparedModule& module,
                                                    InstanceLimits limits, void* embedder,
                                                    bool runInitializer) {
  if (auto fits = engine.checkMemoryLimit(limits.maxMemoryBytes); !fits.isOk()) {
    return fits.withContext("instantiating " + module.module().name());
  }
  auto state = std::make_unique<GuestState>();
  state->name = module.module().name();
  state->embedder = embedder;
  wasmtime::Store store = makeStore(engine, state.get(), limits);
  GuestInstance instance(engine, limits, std::move(state), std::move(store));
  auto created = module.instantiate(instance.store_);
  return finishCreate(std::move(instance), module.module(), std::move(created), runInitializer);
}

std::optional<wasmtime::Memory> GuestInstance::exportedMemory() {
  if (state_->memory) return state_->memory;
  auto exported = instance_->get(store_, "memory");
  auto* memory = exported ? std::get_if<wasmtime::Memory>(&*exported) : nullptr;
  if (memory == nullptr) return std::nullopt;
  return *memory;
}

std::optional<GuestMemory> GuestInstance::memoryView() {
  auto span = memory();
  if (span.data() == nullptr) return std::nullopt;
  return GuestMemory(span);
}

std::span<uint8_t> GuestInstance::memory() {
  auto memory = exportedMemory();
  if (!memory) return {};
  auto data = memory->data(store_);
  return std::span<uint8_t>(data.data(), data.size());
}

Status GuestInstance::growMemoryTo(uint64_t bytes) {
  auto memory = exportedMemory();
  if (!memory) return Status(StatusCode::kFailedPrecondition, state_->name + " has no memory");
  constexpr uint64_t kWasmPage = 65536;
  const uint64_t current = memory->size(store_);  // in Wasm pages
  const uint64_t wanted = (bytes + kWasmPage - 1) / kWasmPage;
  if (wanted <= current) return Status::ok();
  auto grown = memory->grow(store_, wanted - current);
  if (!grown) {
    return Status(StatusCode::kResourceExhausted, state_->name + ": cannot grow memory to " +
                                                      std::to_string(bytes) +
                                                      " bytes: " + grown.err().message());
  }
  return Status::ok();
}

std::optional<wasmtime::Val> GuestInstance::exportedGlobal(std::string_view name) {
  auto exported = instance_->get(store_, name);
  auto* global = exported ? std::get_if<wasmtime::Global>(&*exported) : nullptr;
  if (global == nullptr) return std::nullopt;
  return global->get(store_);
}

Status GuestInstance::setExportedGlobal(std::string_view name, const wasmtime::Val& value) {
  auto exported = instance_->get(store_, name);
  auto* global = exported ? std::get_if<wasmtime::Global>(&*exported) : nullptr;
  if (global == nullptr) {
    return Status(StatusCode::kNotFound,
                  state_->name + " exports no global named " + std::string(name));
  }
  auto set = global->set(store_, value);
  if (!set)
    return Status(
        StatusCode::kFailedPrecondition,
        state_->name + ": setting global " + std::string(name) + ": " + set.err().message());
  return Status::ok();
}

uint64_t GuestInstance::memoryBytes() {
  auto view = memoryView();
  return view ? view->size() : 0;
}

common::Result<uint32_t> GuestInstance::copyIn(std::string_view bytes) {
  if (bytes.size() > limits::kMaxGuestCallBytes) {
    return Status(StatusCode::kResourceExhausted,
                  std::to_string(bytes.size()) + " bytes for the guest is above the limit");
  }
  auto allocated = enter("wop_alloc", {wasmtime::Val(static_cast<int32_t>(bytes.size()))});
  if (!allocated) return allocated.status();
  if (allocated->size() != 1 || allocated->front().kind() != wasmtime::ValKind::I32) {
    return Status(StatusCode::kFailedPrecondition, state_->name + ": wop_alloc must return an i32");
  }
  const auto ptr = static_cast<uint32_t>(allocated->front().i32());
  auto view = memoryView();  // after wop_alloc, which may have grown memory
  if (!view) return Status(StatusCode::kFailedPrecondition, state_->name + " has no memory");
  std::span<const uint8_t> span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (ptr == 0 || !view->write(ptr, span)) {
    return Status(StatusCode::kFailedPrecondition,
                  state_->name + ": wop_alloc returned a pointer outside its memory");
  }
  return ptr;
}

common::Result<wasmtime::Func> GuestInstance::exportedFunc(std::string_view name) {
  for (const auto& [known, func] : funcs_) {
    if (known == name) return func;
  }
  auto exported = instance_->get(store_, name);
  auto* func = exported ? std::get_if<wasmtime::Func>(&*exported) : nullptr;
  if (func == nullptr) {
    return Status(StatusCode::kNotFound,
                  state_->name + " exports no function named " + std::string(name));
  }
  // The host enters a guest through a handful of names; a bound keeps a caller that asks for
  // many from growing this list (past it, names are looked up every time).
  if (funcs_.size() < kMaxRememberedFuncs) funcs_.emplace_back(std::string(name), *func);
  return *func;
}

common::Result<std::vector<wasmtime::Val>> GuestInstance::enter(
    std::string_view name, const std::vector<wasmtime::Val>& args) {
  auto func = exportedFunc(name);
  if (!func) return func.status();
  store_.context().set_epoch_deadline(engine_->ticksFor(limits_.maxEntryTime));
  auto results = func->call(store_, args);
  if (!results) {
    return trapStatus(results.err(), state_->name + " in " + std::string(name),
                      limits_.maxEntryTime);
  }
  return results.unwrap();
}

common::Result<std::string> GuestInstance::callWithBytes(std::string_view exportName,
                                                         std::string_view input) {
  if (input.size() > limits::kMaxGuestCallBytes) {
    return Status(StatusCode::kResourceExhausted, "input of " + std::to_string(input.size()) +
                                                      " bytes is above the limit of " +
                                                      std::to_string(limits::kMaxGuestCallBytes));
  }
  const auto len = static_cast<int32_t>(input.size());
  auto inputPtr = copyIn(input);
  if (!inputPtr) return inputPtr.status();

  auto results =
      enter(exportName, {wasmtime::Val(static_cast<int32_t>(*inputPtr)), wasmtime::Val(len)});
  if (!results) return results.status();
  if (results->size() != 1 || results->front().kind() != wasmtime::ValKind::I64) {
    return Status(StatusCode::kFailedPrecondition,
                  state_->name + ": " + std::string(exportName) + " must return an i64");
  }
  const int64_t packed = results->front().i64();
  if (packed < 0) {
    return Status(StatusCode::kInvalidArgument, state_->name + " returned error " +
                                                    std::to_string(packed) + ": " + state_->output);
  }
  const auto outPtr = static_cast<uint32_t>(static_cast<uint64_t>(packed) >> 32);
  const auto outLen = static_cast<uint32_t>(packed & 0xffffffffu);
  if (outLen > limits::kMaxGuestCallBytes) {
    return Status(StatusCode::kResourceExhausted,
                  state_->name + " returned " + std::to_string(outLen) + " bytes, above the limit");
  }
  auto view = memoryView();  // fresh view: the call may have grown memory
  auto output = view ? view->readString(outPtr, outLen) : std::nullopt;
  if (!output) {
    return Status(StatusCode::kFailedPrecondition,
                  state_->name + " returned an output range outside its memory");
  }
  return std::string(*output);
}

}  // namespace wop::wasm
