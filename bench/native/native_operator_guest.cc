#include "native/native_operator_guest.h"

#include <exception>
#include <string>

namespace wop::bench {
namespace {

using common::Status;
using common::StatusCode;

// Sets the SDK's Host for this thread for one entry, and restores the previous one after.
class HostScope {
 public:
  explicit HostScope(sdk::detail::Host* host) : previous_(sdk::detail::host()) {
    sdk::detail::setHost(host);
  }
  ~HostScope() { sdk::detail::setHost(previous_); }
  HostScope(const HostScope&) = delete;
  HostScope& operator=(const HostScope&) = delete;

 private:
  sdk::detail::Host* const previous_;
};

}  // namespace

Status NativeOperatorGuest::enter(const char* name, const std::function<int32_t()>& entry,
                                  int32_t* status) {
  HostScope scope(&host_);
  try {
    const int32_t result = entry();
    if (status != nullptr) *status = result;
    return Status::ok();
  } catch (const std::exception& e) {
    return Status(StatusCode::kAborted, std::string(name) + " threw: " + e.what());
  } catch (...) {
    return Status(StatusCode::kAborted, std::string(name) + " threw");
  }
}

Status NativeOperatorGuest::init() {
  int32_t status = WOP_OK;
  if (auto entered = enter(
          "wop_init", [&] { return runtime_.init(*operator_); }, &status);
      !entered.isOk()) {
    return entered;
  }
  if (status != WOP_OK) {
    return Status(StatusCode::kFailedPrecondition,
                  "wop_init returned " + std::to_string(status) + ", not WOP_OK");
  }
  return Status::ok();
}

// As with WasmOperatorGuest, the status these three entries return is not an error for the
// runtime: the SDK reports failures through reconcile_done and its log.
Status NativeOperatorGuest::reconcile(uint32_t reconcileId, uint32_t controller,
                                      std::string_view key) {
  return enter("wop_reconcile",
               [&] { return runtime_.reconcile(reconcileId, controller, std::string(key)); });
}

Status NativeOperatorGuest::complete(uint32_t token, int32_t httpStatus, std::string_view body) {
  return enter("wop_on_complete",
               [&] { return runtime_.complete(token, httpStatus, std::string(body)); });
}

Status NativeOperatorGuest::map(uint32_t controller, uint32_t watch, std::string_view objectJson) {
  return enter("wop_map", [&] { return runtime_.map(controller, watch, std::string(objectJson)); });
}

common::Result<std::unique_ptr<runtime::OperatorGuest>> NativeGuestFactory::create(
    hostcalls::OperatorServices& services) {
  auto op = makeOperator_();
  if (!op) return Status(StatusCode::kInternal, "the operator factory returned nothing");
  return std::unique_ptr<runtime::OperatorGuest>(
      std::make_unique<NativeOperatorGuest>(std::move(op), services));
}

}  // namespace wop::bench
