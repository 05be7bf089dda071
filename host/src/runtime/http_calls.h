// wop_http_call: an operator's outbound HTTPS requests (abi/wop_abi.h, docs/abi.md). Each is
// checked (outbound/outbound_request.h), allowed only to the hosts of its spec.allowedHosts
// (outbound/allowed_hosts.h), sent on the host's outbound client (outbound/outbound_client.h:
// no thread waits) and answered through wop_on_complete with a token of the operator's
// ApiCalls, so API and HTTP answers share one queue and one budget of held bytes.
//
// Bounded per operator: WOP_MAX_PENDING_HTTP_CALLS in flight; request bodies and answers count
// against ApiCalls' held bytes.
//
// Thread-safety: call() on the operator's worker; answers arrive on the outbound I/O thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "hostcalls/operator_services.h"
#include "outbound/allowed_hosts.h"
#include "outbound/outbound_client.h"
#include "runtime/api_calls.h"

namespace wop::runtime {

class HttpCalls : public std::enable_shared_from_this<HttpCalls> {
 public:
  // client: null when the host has no outbound client (every call is WOP_ERR_UNAVAILABLE).
  // log: one line about a call's failure for the operator's log (any thread).
  HttpCalls(outbound::OutboundClient* client, outbound::AllowedHosts allowed,
            std::shared_ptr<ApiCalls> answers,
            std::function<void(int32_t level, std::string message)> log);

  hostcalls::HostResult<uint32_t> call(std::string_view requestJson);

  int pending() const { return pending_; }
  uint64_t calls() const { return calls_; }

  // The body wop_on_complete gets for a response: {"status", "headers": [[n, v]], "body": b64}.
  static std::string responseJson(const outbound::OutboundResponse& response);

 private:
  void answered(ApiCalls::Slot slot, common::Result<outbound::OutboundResponse> result);

  outbound::OutboundClient* const client_;
  const outbound::AllowedHosts allowed_;
  const std::shared_ptr<ApiCalls> answers_;
  const std::function<void(int32_t, std::string)> log_;
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> calls_{0};
};

}  // namespace wop::runtime
