// The only file that touches the raw ABI: the wasm Host (imports) and every export. Each
// export copies host-allocated buffers into std::string, frees them, and hands over to the
// Runtime. Built only for wasm32 (wop_add_operator); native tests use a fake Host instead.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "wop/host.h"
#include "wop/operator.h"
#include "wop/runtime.h"
#include "wop_abi.h"

namespace wop::sdk::detail {
namespace {

uint32_t address(const void* pointer) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(pointer));
}

// Takes ownership of a buffer the host allocated with wop_alloc.
std::string adopt(uint32_t ptr, uint32_t len) {
  auto data = reinterpret_cast<char*>(static_cast<uintptr_t>(ptr));
  std::string text = data != nullptr ? std::string(data, len) : std::string();
  std::free(data);
  return text;
}

// Calls a host function that returns its result through (out_ptr, out_len).
template <typename Function>
int32_t readOut(std::string* out, Function call) {
  uint32_t outPtr = 0;
  uint32_t outLen = 0;
  int32_t status = call(address(&outPtr), address(&outLen));
  std::string text = adopt(outPtr, outLen);  // free even on error, should the host have filled it
  if (status >= 0) *out = std::move(text);
  return status;
}

class WasmHost final : public Host {
 public:
  void log(int32_t level, std::string_view message) override {
    wop_log(level, address(message.data()), static_cast<uint32_t>(message.size()));
  }
  int32_t configGet(std::string* out) override {
    return readOut(out, [](uint32_t p, uint32_t l) { return wop_config_get(p, l); });
  }
  int32_t declare(std::string_view declaration) override {
    return wop_declare(address(declaration.data()), static_cast<uint32_t>(declaration.size()));
  }
  int32_t cacheRead(std::string_view request, std::string* out) override {
    return readOut(out, [&](uint32_t p, uint32_t l) {
      return wop_cache_read(address(request.data()), static_cast<uint32_t>(request.size()), p, l);
    });
  }
  int32_t apiCall(std::string_view request) override {
    return wop_api_call(address(request.data()), static_cast<uint32_t>(request.size()));
  }
  int32_t httpCall(std::string_view request) override {
    return wop_http_call(address(request.data()), static_cast<uint32_t>(request.size()));
  }
  int32_t reconcileDone(uint32_t reconcileId, int32_t outcome, int64_t requeueAfterMs,
                        std::string_view message) override {
    return wop_reconcile_done(reconcileId, outcome, requeueAfterMs, address(message.data()),
                              static_cast<uint32_t>(message.size()));
  }
  int32_t emitKey(std::string_view key) override {
    return wop_emit_key(address(key.data()), static_cast<uint32_t>(key.size()));
  }
};

Runtime& runtime() {
  static WasmHost host;
  static Runtime runtime(host);
  return runtime;
}

}  // namespace
}  // namespace wop::sdk::detail

using wop::sdk::detail::adopt;
using wop::sdk::detail::runtime;

extern "C" {

WOP_EXPORT(wop_abi_version_1) void wop_abi_version_1(void) {}

WOP_EXPORT(wop_alloc) uint32_t wop_alloc(uint32_t len) {
  return wop::sdk::detail::address(std::malloc(len > 0 ? len : 1));
}

WOP_EXPORT(wop_init) int32_t wop_init(void) {
  wop::sdk::detail::setHost(&runtime().host());
  return runtime().init(wop::sdk::detail::theOperator());
}

WOP_EXPORT(wop_reconcile)
int32_t wop_reconcile(uint32_t reconcile_id, uint32_t controller_id, uint32_t key_ptr,
                      uint32_t key_len) {
  std::string key = adopt(key_ptr, key_len);
  return runtime().reconcile(reconcile_id, controller_id, key);
}

WOP_EXPORT(wop_on_complete)
int32_t wop_on_complete(uint32_t token, int32_t http_status, uint32_t body_ptr, uint32_t body_len) {
  return runtime().complete(token, http_status, adopt(body_ptr, body_len));
}

WOP_EXPORT(wop_map)
int32_t wop_map(uint32_t controller_id, uint32_t watch_index, uint32_t obj_ptr, uint32_t obj_len) {
  std::string object = adopt(obj_ptr, obj_len);
  return runtime().map(controller_id, watch_index, object);
}

}  // extern "C"
