#include "runtime/wasm_operator_guest.h"

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

Status WasmOperatorGuest::enterWithBytes(const char* name, uint32_t a, int32_t b, std::string_view bytes) {
  auto ptr = instance_.copyIn(bytes);
  if (!ptr) return ptr.status().withContext(std::string("copying the argument of ") + name + " in");
  auto results = instance_.enter(name, {wasmtime::Val(static_cast<int32_t>(a)), wasmtime::Val(b),
                                        wasmtime::Val(static_cast<int32_t>(*ptr)),
                                        wasmtime::Val(static_cast<int32_t>(bytes.size()))});
  if (!results) return results.status();
  return checkStatusResult(*results, name);
}

Status WasmOperatorGuest::reconcile(uint32_t reconcileId, uint32_t controller, std::string_view key) {
  // wop_reconcile takes (id, controller, ptr, len): the same shape as the other two.
  return enterWithBytes("wop_reconcile", reconcileId, static_cast<int32_t>(controller), key);
}

Status WasmOperatorGuest::complete(uint32_t token, int32_t httpStatus, std::string_view body) {
  return enterWithBytes("wop_on_complete", token, httpStatus, body);
}

Status WasmOperatorGuest::map(uint32_t controller, uint32_t watch, std::string_view objectJson) {
  return enterWithBytes("wop_map", controller, static_cast<int32_t>(watch), objectJson);
}

common::Result<std::unique_ptr<OperatorGuest>> WasmGuestFactory::create(hostcalls::OperatorServices& services) {
  auto instance = wasm::GuestInstance::create(engine_, module_, limits_, &services);
  if (!instance) return instance.status();
  instance->state().name = name_;
  return std::unique_ptr<OperatorGuest>(std::make_unique<WasmOperatorGuest>(std::move(*instance)));
}

}  // namespace wop::runtime
