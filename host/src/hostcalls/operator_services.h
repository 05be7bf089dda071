// What the host functions of ABI v1 ask of the runtime, per operator instance. The hostcalls
// layer checks guest memory and decodes arguments; the runtime implements this interface and
// decides (cache reads, API calls, reconcile bookkeeping). One implementation per operator;
// called on whichever thread is entering that operator's guest (one at a time).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "wop_abi.h"

namespace wop::hostcalls {

struct HostCallError {
  wop_status code;      // what the guest gets back (WOP_ERR_*)
  std::string message;  // what the operator's log says
};

inline HostCallError hostError(wop_status code, std::string message) {
  return {code, std::move(message)};
}

template <typename T>
using HostResult = common::Result<T, HostCallError>;

class OperatorServices {
 public:
  virtual ~OperatorServices() = default;

  virtual void log(int32_t level, std::string_view message) = 0;
  virtual std::string config() = 0;  // the operator's config as JSON
  virtual HostResult<int32_t> declare(std::string_view declarationJson) = 0;
  virtual HostResult<std::string> cacheRead(std::string_view requestJson) = 0;
  virtual HostResult<uint32_t> apiCall(std::string_view requestJson) = 0;
  // An outbound HTTP request (wop_http_call); by default a host that makes none.
  virtual HostResult<uint32_t> httpCall(std::string_view requestJson) {
    (void)requestJson;
    return hostError(WOP_ERR_UNAVAILABLE, "http call: this host makes no outbound requests");
  }
  virtual HostResult<int32_t> reconcileDone(uint32_t reconcileId, int32_t outcome,
                                            int64_t requeueAfterMs, std::string_view message) = 0;
  virtual HostResult<int32_t> emitKey(std::string_view key) = 0;

  // The guest broke the ABI contract (e.g. a pointer outside its memory): the call returns an
  // error status to the guest, and the runtime fails the operator when the entry returns.
  virtual void contractViolation(std::string what) = 0;
};

}  // namespace wop::hostcalls
