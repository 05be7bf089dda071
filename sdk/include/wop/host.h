// detail::Host: the raw ABI imports as a small interface, so the SDK's logic runs natively in
// tests. The wasm implementation (glue.cc) is the only code that touches the imports; tests
// use a fake. Buffers the host hands over are copied into std::string and freed by the glue,
// so nothing here owns guest-allocated memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wop_abi.h"

namespace wop::sdk::detail {

class Host {
 public:
  virtual ~Host() = default;
  virtual void log(int32_t level, std::string_view message) = 0;
  // Writes the operator's config JSON to *out; returns a wop_status.
  virtual int32_t configGet(std::string* out) = 0;
  // Returns the controller id (>= 0) or a negative wop_status.
  virtual int32_t declare(std::string_view declaration) = 0;
  // Writes the object (or {"items": [...]}) to *out; returns a wop_status.
  virtual int32_t cacheRead(std::string_view request, std::string* out) = 0;
  // Returns a token (> 0) or a negative wop_status.
  virtual int32_t apiCall(std::string_view request) = 0;
  // Returns a token (> 0) or a negative wop_status; a Host without outbound HTTP (a fake that
  // does not model it) refuses with WOP_ERR_UNAVAILABLE.
  virtual int32_t httpCall(std::string_view request) {
    (void)request;
    return WOP_ERR_UNAVAILABLE;
  }
  virtual int32_t reconcileDone(uint32_t reconcileId, int32_t outcome, int64_t requeueAfterMs,
                                std::string_view message) = 0;
  virtual int32_t emitKey(std::string_view key) = 0;
};

// The Host the SDK's free functions (log::*) use. Set by the glue in wasm, by tests natively.
// A wasm guest has one thread and one operator, so one pointer is its whole ambient state.
// Natively the pointer is per thread: a process hosting several native operators sets it
// around every entry into one (and restores it after), so concurrent entries of different
// operators on different threads each log to their own Host.
Host* host();
void setHost(Host* host);

// "WOP_ERR_NOT_FOUND" for a status; "WOP_OK" for 0 or a token.
const char* statusName(int32_t status);

}  // namespace wop::sdk::detail
