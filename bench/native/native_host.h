// NativeHost: the SDK's detail::Host for an operator compiled natively, forwarding each host
// call to the runtime's OperatorServices. It does what the Wasm host functions
// (host/src/hostcalls/) do around the same calls, minus guest memory: the same length limits
// (WOP_MAX_*), the same log-level clamp and truncation, and the same mapping of HostCallError
// to the wop_status the guest gets (logged as a warning, except a cache miss). Strings are
// copied in and out, as they are across the Wasm boundary.
//
// Thread-safety: one thread at a time, like the OperatorServices it forwards to.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "hostcalls/operator_services.h"
#include "wop/host.h"

namespace wop::bench {

class NativeHost final : public sdk::detail::Host {
 public:
  // services must outlive this.
  explicit NativeHost(hostcalls::OperatorServices& services) : services_(services) {}

  void log(int32_t level, std::string_view message) override;
  int32_t configGet(std::string* out) override;
  int32_t declare(std::string_view declaration) override;
  int32_t cacheRead(std::string_view request, std::string* out) override;
  int32_t apiCall(std::string_view request) override;
  int32_t reconcileDone(uint32_t reconcileId, int32_t outcome, int64_t requeueAfterMs,
                        std::string_view message) override;
  int32_t emitKey(std::string_view key) override;

 private:
  // WOP_ERR_LIMIT (and a warning) if text is longer than maxLen, else WOP_OK.
  wop_status checkLength(const char* function, std::string_view text, uint32_t maxLen);
  // The error's status, after logging its message for the operator.
  wop_status fail(const char* function, const hostcalls::HostCallError& error);

  hostcalls::OperatorServices& services_;
};

}  // namespace wop::bench
