#include "wop/host.h"

namespace wop::sdk::detail {

namespace {
Host* currentHost = nullptr;
}

Host* host() { return currentHost; }
void setHost(Host* host) { currentHost = host; }

const char* statusName(int32_t status) {
  switch (status) {
    case WOP_ERR_INVALID_ARGUMENT: return "WOP_ERR_INVALID_ARGUMENT";
    case WOP_ERR_OUT_OF_BOUNDS: return "WOP_ERR_OUT_OF_BOUNDS";
    case WOP_ERR_NOT_FOUND: return "WOP_ERR_NOT_FOUND";
    case WOP_ERR_FORBIDDEN: return "WOP_ERR_FORBIDDEN";
    case WOP_ERR_LIMIT: return "WOP_ERR_LIMIT";
    case WOP_ERR_UNAVAILABLE: return "WOP_ERR_UNAVAILABLE";
    case WOP_ERR_BAD_STATE: return "WOP_ERR_BAD_STATE";
    case WOP_ERR_ALLOC_FAILED: return "WOP_ERR_ALLOC_FAILED";
    default: return status >= 0 ? "WOP_OK" : "WOP_ERR_UNKNOWN";
  }
}

}  // namespace wop::sdk::detail
