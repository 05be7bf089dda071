#include "wop/host.h"

namespace wop::sdk::detail {

namespace {
#ifdef __wasm__
// A wasm guest has one thread and one operator: a plain global, set once by wop_init.
Host* currentHost = nullptr;
#else
// Natively (tests, the ring benchmark's native operators) one process may hold many
// operators, entered by several threads at once; whoever enters one sets its Host for the
// duration of the entry (bench/native/native_operator_guest.cc), on that thread only.
thread_local Host* currentHost = nullptr;
#endif
}  // namespace

Host* host() { return currentHost; }
void setHost(Host* host) { currentHost = host; }

const char* statusName(int32_t status) {
  switch (status) {
    case WOP_ERR_INVALID_ARGUMENT:
      return "WOP_ERR_INVALID_ARGUMENT";
    case WOP_ERR_OUT_OF_BOUNDS:
      return "WOP_ERR_OUT_OF_BOUNDS";
    case WOP_ERR_NOT_FOUND:
      return "WOP_ERR_NOT_FOUND";
    case WOP_ERR_FORBIDDEN:
      return "WOP_ERR_FORBIDDEN";
    case WOP_ERR_LIMIT:
      return "WOP_ERR_LIMIT";
    case WOP_ERR_UNAVAILABLE:
      return "WOP_ERR_UNAVAILABLE";
    case WOP_ERR_BAD_STATE:
      return "WOP_ERR_BAD_STATE";
    case WOP_ERR_ALLOC_FAILED:
      return "WOP_ERR_ALLOC_FAILED";
    default:
      return status >= 0 ? "WOP_OK" : "WOP_ERR_UNKNOWN";
  }
}

}  // namespace wop::sdk::detail
