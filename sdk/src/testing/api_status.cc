#include "api_status.h"

namespace wop::testing::detail {

const char* reasonOf(int32_t httpStatus) {
  switch (httpStatus) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 409:
      return "Conflict";
    case 410:
      return "Expired";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return httpStatus >= 500 ? "InternalError" : "Unknown";
  }
}

sdk::Response statusResponse(int32_t httpStatus, const std::string& message,
                             const std::string& kind, const std::string& name) {
  nlohmann::json status = {
      {"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()},
      {"status", "Failure"}, {"message", message}, {"reason", reasonOf(httpStatus)},
      {"code", httpStatus}};
  if (!kind.empty() || !name.empty()) status["details"] = {{"name", name}, {"kind", kind}};
  return {httpStatus, status.dump()};
}

}  // namespace wop::testing::detail
