#include "hostcalls/host_call.h"

namespace wop::hostcalls {

std::optional<std::string> HostCall::readText(uint32_t ptr, uint32_t len, uint32_t maxLen,
                                              wop_status* error) {
  auto memory = context_.memory();
  if (!memory) {
    *error = WOP_ERR_OUT_OF_BOUNDS;
    services().contractViolation(std::string(function_) + " called by a module without memory");
    return std::nullopt;
  }
  auto text = memory->readString(ptr, len);
  if (!text) {
    *error = WOP_ERR_OUT_OF_BOUNDS;
    services().contractViolation(
        std::string(function_) + " was passed the range [" + std::to_string(ptr) + ", +" +
        std::to_string(len) + ") outside its " + std::to_string(memory->size()) + "-byte memory");
    return std::nullopt;
  }
  if (context_.state().memoryFaulted()) {
    // Part of the guest's memory was lost with its snapshot file (and reads as zero): what it
    // passes may be garbage, so nothing is done with it. The operator restarts after the entry.
    *error = WOP_ERR_UNAVAILABLE;
    return std::nullopt;
  }
  if (len > maxLen) {
    *error = WOP_ERR_LIMIT;
    services().log(WOP_LOG_WARN, std::string(function_) + ": " + std::to_string(len) +
                                     " bytes is above the limit of " + std::to_string(maxLen));
    return std::nullopt;
  }
  *error = WOP_OK;
  return std::string(*text);
}

wop_status HostCall::writeOut(std::string_view bytes, uint32_t outPtr, uint32_t outLen) {
  {
    auto memory = context_.memory();
    if (!memory || !memory->read(outPtr, 4) || !memory->read(outLen, 4)) {
      services().contractViolation(std::string(function_) +
                                   " was passed result slots outside its memory");
      return WOP_ERR_OUT_OF_BOUNDS;
    }
  }
  auto alloc = context_.alloc();
  if (!alloc) return WOP_ERR_ALLOC_FAILED;
  auto result = alloc->call(caller_.context(), {wasmtime::Val(static_cast<int32_t>(bytes.size()))});
  if (!result) return WOP_ERR_ALLOC_FAILED;
  auto values = result.unwrap();
  if (values.size() != 1 || values[0].kind() != wasmtime::ValKind::I32) return WOP_ERR_ALLOC_FAILED;
  const auto ptr = static_cast<uint32_t>(values[0].i32());
  auto memory = context_.memory();  // fresh view: wop_alloc may have grown memory
  std::span<const uint8_t> data(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (ptr == 0 || !memory || !memory->write(ptr, data)) return WOP_ERR_ALLOC_FAILED;
  if (!memory->writeU32(outPtr, ptr) ||
      !memory->writeU32(outLen, static_cast<uint32_t>(bytes.size()))) {
    return WOP_ERR_OUT_OF_BOUNDS;
  }
  return WOP_OK;
}

wop_status HostCall::fail(const HostCallError& error) {
  services().log(WOP_LOG_WARN, std::string(function_) + ": " + error.message);
  return error.code;
}

}  // namespace wop::hostcalls
