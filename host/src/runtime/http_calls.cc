#include "runtime/http_calls.h"

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "wop_abi.h"

namespace wop::runtime {
namespace {

using common::StatusCode;
using hostcalls::hostError;
using Json = nlohmann::json;

// The wop_status a failure without a response becomes.
int32_t statusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kResourceExhausted:
      return WOP_ERR_LIMIT;
    case StatusCode::kFailedPrecondition:
      return WOP_ERR_FORBIDDEN;
    case StatusCode::kInvalidArgument:
      return WOP_ERR_INVALID_ARGUMENT;
    default:
      return WOP_ERR_UNAVAILABLE;
  }
}

std::string errorJson(const std::string& message) {
  return Json({{"error", message}}).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

HttpCalls::HttpCalls(outbound::OutboundClient* client, outbound::AllowedHosts allowed,
                     std::shared_ptr<ApiCalls> answers,
                     std::function<void(int32_t level, std::string message)> log)
    : client_(client),
      allowed_(std::move(allowed)),
      answers_(std::move(answers)),
      log_(std::move(log)) {}

std::string HttpCalls::responseJson(const outbound::OutboundResponse& response) {
  Json headers = Json::array();
  for (const auto& [name, value] : response.headers) headers.push_back({name, value});
  // Header text is valid UTF-8 already (outbound_client.h); replace anyway: a throwing dump on
  // the I/O thread would end the host.
  return Json({{"status", response.status},
               {"headers", std::move(headers)},
               {"body", common::base64Encode(response.body)}})
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}

hostcalls::HostResult<uint32_t> HttpCalls::call(std::string_view requestJson) {
  if (pending_ >= static_cast<int>(WOP_MAX_PENDING_HTTP_CALLS)) {
    return hostError(WOP_ERR_LIMIT, "more than " + std::to_string(WOP_MAX_PENDING_HTTP_CALLS) +
                                        " HTTP calls in flight");
  }
  if (client_ == nullptr) {
    return hostError(WOP_ERR_UNAVAILABLE, "http call: this host makes no outbound requests");
  }
  auto request = outbound::parseOutboundRequest(requestJson, client_->allowHttp());
  if (!request) {
    return hostError(request.status().code() == StatusCode::kResourceExhausted
                         ? WOP_ERR_LIMIT
                         : WOP_ERR_INVALID_ARGUMENT,
                     request.status().message());
  }
  if (!allowed_.allows(request->url)) {
    return hostError(WOP_ERR_FORBIDDEN,
                     "http call: " + request->url.scheme + "://" + request->url.authority() +
                         " is not in the operator's spec.allowedHosts" +
                         (allowed_.empty() ? " (which lists nothing: no outbound calls)" : ""));
  }
  const ApiCalls::Slot slot = answers_->open();
  pending_++;
  calls_++;
  std::weak_ptr<HttpCalls> weak = weak_from_this();
  auto sent = client_->send(std::move(*request),
                            [weak, slot](common::Result<outbound::OutboundResponse> result) {
                              if (auto self = weak.lock()) self->answered(slot, std::move(result));
                            });
  if (!sent.isOk()) {
    // Refused before anything was sent: the call ends here, with its token never handed out.
    pending_--;
    answers_->abandon(slot);
    return hostError(statusOf(sent.code()), "http call: " + sent.message());
  }
  return slot.token;
}

void HttpCalls::answered(ApiCalls::Slot slot, common::Result<outbound::OutboundResponse> result) {
  pending_--;
  if (result) {
    answers_->deliver(slot, result->status, responseJson(*result));
    return;
  }
  log_(WOP_LOG_WARN, "http call failed: " + result.status().message());
  answers_->deliver(slot, statusOf(result.status().code()), errorJson(result.status().message()));
}

}  // namespace wop::runtime
