// Response: the answer to one API call, as delivered by wop_on_complete.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace wop::sdk {

struct Response {
  // The HTTP status (200, 201, 404, 409, ...) or, when no HTTP answer exists (the host refused
  // the call, or the connection failed), a negative wop_status.
  int32_t status = 0;
  // The body: an object, a list or a metav1.Status. On host errors: empty when the host
  // refused the call, a metav1.Status saying why when the request failed without an answer.
  std::string body;

  // The parsed body; a discarded value (is_discarded()) if the body is not JSON.
  nlohmann::json json() const;
  bool ok() const { return status >= 200 && status < 300; }
  bool notFound() const { return status == 404; }
  bool conflict() const { return status == 409; }  // also AlreadyExists on create
  bool hostError() const { return status < 0; }
  // A line for logs and Result::error: "HTTP 404: <metav1.Status message>", "WOP_ERR_UNAVAILABLE:
  // <why>" (no answer), or "host refused the call: WOP_ERR_LIMIT".
  std::string errorMessage() const;
};

}  // namespace wop::sdk
