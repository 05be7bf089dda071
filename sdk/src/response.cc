#include "wop/response.h"

#include "wop/host.h"

namespace wop::sdk {

nlohmann::json Response::json() const {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

std::string Response::errorMessage() const {
  if (hostError()) return std::string("host refused the call: ") + detail::statusName(status);
  auto parsed = json();
  if (parsed.is_object()) {
    auto message = parsed.find("message");
    if (message != parsed.end() && message->is_string()) {
      return "HTTP " + std::to_string(status) + ": " + message->get_ref<const std::string&>();
    }
  }
  return "HTTP " + std::to_string(status);
}

}  // namespace wop::sdk
