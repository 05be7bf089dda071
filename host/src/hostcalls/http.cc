#include "hostcalls/domains.h"
#include "hostcalls/host_call.h"

namespace wop::hostcalls {

common::Status defineHttp(wasmtime::Linker& linker) {
  return defineFunction(
      linker, "http_call", [](wasmtime::Caller caller, int32_t ptr, int32_t len) -> int32_t {
        HostCall call(caller, "wop_http_call");
        wop_status error;
        auto request = call.readText(static_cast<uint32_t>(ptr), static_cast<uint32_t>(len),
                                     WOP_MAX_REQUEST_BYTES, &error);
        if (!request) return error;
        auto token = call.services().httpCall(*request);
        return token ? static_cast<int32_t>(*token) : call.fail(token.error());
      });
}

}  // namespace wop::hostcalls
