#include "hostcalls/domains.h"
#include "hostcalls/host_call.h"

namespace wop::hostcalls {

common::Status defineConfig(wasmtime::Linker& linker) {
  return defineFunction(
      linker, "config_get", [](wasmtime::Caller caller, int32_t outPtr, int32_t outLen) -> int32_t {
        HostCall call(caller, "wop_config_get");
        return call.writeOut(call.services().config(), static_cast<uint32_t>(outPtr),
                             static_cast<uint32_t>(outLen));
      });
}

}  // namespace wop::hostcalls
