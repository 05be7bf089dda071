#include "hostcalls/domains.h"
#include "hostcalls/host_call.h"

namespace wop::hostcalls {

common::Status defineReconcile(wasmtime::Linker& linker) {
  auto status = defineFunction(
      linker, "reconcile_done",
      [](wasmtime::Caller caller, int32_t id, int32_t outcome, int64_t requeueMs, int32_t ptr,
         int32_t len) -> int32_t {
        HostCall call(caller, "wop_reconcile_done");
        std::string message;
        if (len != 0) {
          wop_status error;
          auto text = call.readText(static_cast<uint32_t>(ptr), static_cast<uint32_t>(len),
                                    WOP_MAX_LOG_BYTES, &error);
          if (!text) return error;
          message = std::move(*text);
        }
        auto done =
            call.services().reconcileDone(static_cast<uint32_t>(id), outcome, requeueMs, message);
        return done ? WOP_OK : call.fail(done.error());
      });
  if (!status.isOk()) return status;
  return defineFunction(
      linker, "emit_key", [](wasmtime::Caller caller, int32_t ptr, int32_t len) -> int32_t {
        HostCall call(caller, "wop_emit_key");
        wop_status error;
        auto key = call.readText(static_cast<uint32_t>(ptr), static_cast<uint32_t>(len),
                                 WOP_MAX_KEY_BYTES, &error);
        if (!key) return error;
        auto emitted = call.services().emitKey(*key);
        return emitted ? WOP_OK : call.fail(emitted.error());
      });
}

}  // namespace wop::hostcalls
