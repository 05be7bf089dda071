#include "runtime/guest_supervisor.h"

#include "runtime/key_mapping.h"
#include "wop_abi.h"

namespace wop::runtime {
using hostcalls::hostError;

namespace {

using common::Status;
using common::StatusCode;

// An operator that ran this long since its last restart has its restart backoff reset.
constexpr auto kHealthyAfter = std::chrono::seconds(60);

}  // namespace

const char* operatorStateName(OperatorState state) {
  switch (state) {
    case OperatorState::kStarting:
      return "Starting";
    case OperatorState::kRunning:
      return "Running";
    case OperatorState::kBackoff:
      return "Backoff";
    case OperatorState::kRefused:
      return "Refused";
    case OperatorState::kStopped:
      return "Stopped";
  }
  return "Unknown";
}

GuestSupervisor::GuestSupervisor(const common::Clock& clock, std::chrono::milliseconds backoffBase,
                                 std::chrono::milliseconds backoffMax)
    : clock_(clock), backoff_(backoffBase, backoffMax, kHealthyAfter) {}

common::Status GuestSupervisor::instantiate(GuestFactory& factory,
                                            hostcalls::OperatorServices& services,
                                            bool& neverInstantiable) {
  violation_.reset();
  auto guest = factory.create(services);
  if (!guest) {
    // GuestFactory::create: kFailedPrecondition is a module no retry will instantiate.
    neverInstantiable = guest.status().code() == StatusCode::kFailedPrecondition;
    return guest.status();
  }
  guest_ = std::move(*guest);
  declared_.clear();
  initializing_ = true;
  auto init = guest_->init();
  initializing_ = false;
  if (!init.isOk()) return init.withContext("wop_init");
  if (violation_)
    return Status(StatusCode::kFailedPrecondition,
                  "wop_init broke the ABI contract: " + *violation_);
  if (declared_.empty())
    return Status(StatusCode::kFailedPrecondition, "wop_init declared no controller");
  return Status::ok();
}

void GuestSupervisor::adopt(std::unique_ptr<OperatorGuest> guest) {
  violation_.reset();
  guest_ = std::move(guest);
}

common::Result<std::vector<std::string>> GuestSupervisor::map(uint32_t controller, uint32_t watch,
                                                              std::string_view objectJson) {
  mapping_ = true;
  mappedKeys_.clear();
  auto status = guest_->map(controller, watch, objectJson);
  mapping_ = false;
  if (!status.isOk()) return status;
  return std::move(mappedKeys_);
}

GuestSupervisor::Fault GuestSupervisor::entryFault(const Status& status, const char* what,
                                                   std::string& reason) const {
  if (guest_ && guest_->memoryFaulted()) {
    // Whatever the entry did, it ran on memory that was partly lost: start afresh.
    reason = what;
    return Fault::kLostMemory;
  }
  if (!status.isOk()) {
    reason = std::string(what) + ": " + status.message();
    return Fault::kFailed;
  }
  if (violation_) {
    reason = std::string(what) + " broke the ABI contract: " + *violation_;
    return Fault::kFailed;
  }
  return Fault::kNone;
}

hostcalls::HostResult<int32_t> GuestSupervisor::declare(std::string_view json) {
  if (!initializing_)
    return hostError(WOP_ERR_BAD_STATE, "wop_declare is only allowed during wop_init");
  if (declared_.size() >= WOP_MAX_CONTROLLERS)
    return hostError(WOP_ERR_LIMIT, "too many controllers");
  auto declaration = parseDeclaration(json);
  if (!declaration) return hostError(WOP_ERR_INVALID_ARGUMENT, declaration.status().message());
  if (auto status = checkOperatorIndexes(declared_, *declaration); !status.isOk()) {
    return hostError(status.code() == common::StatusCode::kResourceExhausted
                         ? WOP_ERR_LIMIT
                         : WOP_ERR_INVALID_ARGUMENT,
                     status.message());
  }
  declared_.push_back(std::move(*declaration));
  return static_cast<int32_t>(declared_.size() - 1);
}

hostcalls::HostResult<int32_t> GuestSupervisor::emitKey(std::string_view key) {
  if (!mapping_) return hostError(WOP_ERR_BAD_STATE, "wop_emit_key is only allowed inside wop_map");
  if (mappedKeys_.size() >= WOP_MAX_EMITTED_KEYS) return hostError(WOP_ERR_LIMIT, "too many keys");
  auto parsed = parseKey(key);
  if (!parsed) return hostError(WOP_ERR_INVALID_ARGUMENT, parsed.status().message());
  mappedKeys_.push_back(parsed->toString());
  return WOP_OK;
}

void GuestSupervisor::contractViolation(std::string what) {
  if (!violation_) violation_ = std::move(what);
}

void GuestSupervisor::running() {
  backoff_.started(clock_.now());
  state_ = OperatorState::kRunning;
}

std::chrono::milliseconds GuestSupervisor::failed() {
  const auto delay = backoff_.failed(clock_.now(), common::randomUnit());
  guest_.reset();
  restartAt_ = clock_.now() + delay;
  state_ = OperatorState::kBackoff;
  return delay;
}

}  // namespace wop::runtime
