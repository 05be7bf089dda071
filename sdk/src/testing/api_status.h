// The API server's error answers (metav1.Status), for the fake cluster and injected failures.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "wop/response.h"

namespace wop::testing::detail {

// The reason the API server gives with an HTTP status ("Conflict", "NotFound", ...).
const char* reasonOf(int32_t httpStatus);

// A failure: {"kind": "Status", "status": "Failure", "code", "reason", "message", "details"}.
sdk::Response statusResponse(int32_t httpStatus, const std::string& message,
                             const std::string& kind = "", const std::string& name = "");

}  // namespace wop::testing::detail
