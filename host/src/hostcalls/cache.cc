#include "hostcalls/domains.h"
#include "hostcalls/host_call.h"

namespace wop::hostcalls {

common::Status defineCache(wasmtime::Linker& linker) {
  return defineFunction(
      linker, "cache_read",
      [](wasmtime::Caller caller, int32_t ptr, int32_t len, int32_t outPtr,
         int32_t outLen) -> int32_t {
        HostCall call(caller, "wop_cache_read");
        wop_status error;
        auto request = call.readText(static_cast<uint32_t>(ptr), static_cast<uint32_t>(len),
                                     WOP_MAX_REQUEST_BYTES, &error);
        if (!request) return error;
        auto result = call.services().cacheRead(*request);
        if (!result)
          return result.error().code == WOP_ERR_NOT_FOUND ? WOP_ERR_NOT_FOUND
                                                          : call.fail(result.error());
        return call.writeOut(*result, static_cast<uint32_t>(outPtr), static_cast<uint32_t>(outLen));
      });
}

}  // namespace wop::hostcalls
