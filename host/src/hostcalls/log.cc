#include "hostcalls/domains.h"
#include "hostcalls/host_call.h"

namespace wop::hostcalls {

common::Status defineLog(wasmtime::Linker& linker) {
  return defineFunction(
      linker, "log", [](wasmtime::Caller caller, int32_t level, int32_t ptr, int32_t len) {
        HostCall call(caller, "wop_log");
        // Longer lines are truncated rather than refused: a log line is never worth failing over.
        const uint32_t kept = std::min<uint32_t>(static_cast<uint32_t>(len), WOP_MAX_LOG_BYTES);
        wop_status error;
        auto text = call.readText(static_cast<uint32_t>(ptr), kept, WOP_MAX_LOG_BYTES, &error);
        if (!text) return;
        if (level < WOP_LOG_DEBUG || level > WOP_LOG_ERROR) level = WOP_LOG_INFO;
        call.services().log(level, *text);
      });
}

}  // namespace wop::hostcalls
