#include "hostcalls/domains.h"
#include "hostcalls/host_call.h"

namespace wop::hostcalls {

common::Status defineDeclare(wasmtime::Linker& linker) {
  return defineFunction(
      linker, "declare", [](wasmtime::Caller caller, int32_t ptr, int32_t len) -> int32_t {
        HostCall call(caller, "wop_declare");
        wop_status error;
        auto json = call.readText(static_cast<uint32_t>(ptr), static_cast<uint32_t>(len),
                                  WOP_MAX_DECLARATION_BYTES, &error);
        if (!json) return error;
        auto id = call.services().declare(*json);
        return id ? *id : call.fail(id.error());
      });
}

}  // namespace wop::hostcalls
