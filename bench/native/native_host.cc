#include "native/native_host.h"

#include <algorithm>

namespace wop::bench {

wop_status NativeHost::checkLength(const char* function, std::string_view text, uint32_t maxLen) {
  if (text.size() <= maxLen) return WOP_OK;
  services_.log(WOP_LOG_WARN, std::string(function) + ": " + std::to_string(text.size()) +
                                  " bytes is above the limit of " + std::to_string(maxLen));
  return WOP_ERR_LIMIT;
}

wop_status NativeHost::fail(const char* function, const hostcalls::HostCallError& error) {
  services_.log(WOP_LOG_WARN, std::string(function) + ": " + error.message);
  return error.code;
}

void NativeHost::log(int32_t level, std::string_view message) {
  // Longer lines are truncated rather than refused, as in hostcalls/log.cc.
  message = message.substr(0, std::min<size_t>(message.size(), WOP_MAX_LOG_BYTES));
  if (level < WOP_LOG_DEBUG || level > WOP_LOG_ERROR) level = WOP_LOG_INFO;
  services_.log(level, message);
}

int32_t NativeHost::configGet(std::string* out) {
  *out = services_.config();
  return WOP_OK;
}

int32_t NativeHost::declare(std::string_view declaration) {
  if (auto status = checkLength("wop_declare", declaration, WOP_MAX_DECLARATION_BYTES);
      status != WOP_OK) {
    return status;
  }
  auto id = services_.declare(declaration);
  return id ? *id : fail("wop_declare", id.error());
}

int32_t NativeHost::cacheRead(std::string_view request, std::string* out) {
  if (auto status = checkLength("wop_cache_read", request, WOP_MAX_REQUEST_BYTES);
      status != WOP_OK) {
    return status;
  }
  auto object = services_.cacheRead(request);
  if (!object) {
    // A miss is an answer, not a problem: not logged.
    return object.error().code == WOP_ERR_NOT_FOUND ? WOP_ERR_NOT_FOUND
                                                    : fail("wop_cache_read", object.error());
  }
  *out = std::move(*object);
  return WOP_OK;
}

int32_t NativeHost::apiCall(std::string_view request) {
  if (auto status = checkLength("wop_api_call", request, WOP_MAX_REQUEST_BYTES); status != WOP_OK) {
    return status;
  }
  auto token = services_.apiCall(request);
  return token ? static_cast<int32_t>(*token) : fail("wop_api_call", token.error());
}

int32_t NativeHost::reconcileDone(uint32_t reconcileId, int32_t outcome, int64_t requeueAfterMs,
                                  std::string_view message) {
  if (auto status = checkLength("wop_reconcile_done", message, WOP_MAX_LOG_BYTES);
      status != WOP_OK) {
    return status;
  }
  auto done = services_.reconcileDone(reconcileId, outcome, requeueAfterMs, message);
  return done ? WOP_OK : fail("wop_reconcile_done", done.error());
}

int32_t NativeHost::emitKey(std::string_view key) {
  if (auto status = checkLength("wop_emit_key", key, WOP_MAX_KEY_BYTES); status != WOP_OK)
    return status;
  auto emitted = services_.emitKey(key);
  return emitted ? WOP_OK : fail("wop_emit_key", emitted.error());
}

}  // namespace wop::bench
