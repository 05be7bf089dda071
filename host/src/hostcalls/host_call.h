// The per-call view a host function has of its caller: the operator's services and checked
// access to guest memory. All guest memory access of the host functions goes through here.
// Never keep a GuestMemory across writeOut(), which calls back into the guest (wop_alloc)
// and may grow (move) its memory.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <wasmtime.hh>

#include "hostcalls/operator_services.h"
#include "wasm/host_call_context.h"

namespace wop::hostcalls {

class HostCall {
 public:
  HostCall(wasmtime::Caller& caller, const char* function)
      : caller_(caller), context_(caller), function_(function) {}

  OperatorServices& services() {
    return *static_cast<OperatorServices*>(context_.state().embedder);
  }

  // Reads (ptr, len) as text, capped at maxLen. On a range outside memory records a contract
  // violation; on len > maxLen returns WOP_ERR_LIMIT. Either way sets *error.
  std::optional<std::string> readText(uint32_t ptr, uint32_t len, uint32_t maxLen,
                                      wop_status* error);

  // Copies bytes into a buffer from the guest's wop_alloc and writes its address and length
  // to the u32 slots at outPtr and outLen.
  wop_status writeOut(std::string_view bytes, uint32_t outPtr, uint32_t outLen);

  // Maps a HostCallError to its status, logging the message for the operator.
  wop_status fail(const HostCallError& error);

 private:
  wasmtime::Caller& caller_;
  wasm::HostCallContext context_;
  const char* function_;
};

}  // namespace wop::hostcalls
