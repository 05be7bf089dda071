#include "wop/response.h"

#include "wop/host.h"

namespace wop::sdk {

nlohmann::json Response::json() const {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

std::string Response::errorMessage() const {
  std::string message;
  if (auto parsed = json(); parsed.is_object()) {
    auto found = parsed.find("message");
    if (found != parsed.end() && found->is_string()) message = found->get<std::string>();
  }
  if (hostError()) {
    // No HTTP answer. With a metav1.Status from the host the request went out and failed (the
    // API server unreachable, a timeout): say why; without one the host refused the call.
    const std::string name = detail::statusName(status);
    return message.empty() ? "host refused the call: " + name : name + ": " + message;
  }
  return "HTTP " + std::to_string(status) + (message.empty() ? "" : ": " + message);
}

}  // namespace wop::sdk
