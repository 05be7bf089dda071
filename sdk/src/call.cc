#include "wop/call.h"

#include "wop/runtime.h"

namespace wop::sdk {

bool Call::await_ready() {
  if (runtime_ == nullptr) return true;
  int32_t token = runtime_->startCall(request_);
  request_ = {};  // sent: do not keep a copy in the frame while waiting
  if (token <= 0) {
    response_.status = token < 0 ? token : WOP_ERR_INVALID_ARGUMENT;  // 0 is no valid token
    return true;
  }
  token_ = token;
  return false;
}

void Call::await_suspend(std::coroutine_handle<> caller) {
  runtime_->park(token_, caller, &response_);
}

}  // namespace wop::sdk
