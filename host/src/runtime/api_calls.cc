#include "runtime/api_calls.h"

#include <nlohmann/json.hpp>

#include "common/limits.h"
#include "kube/discovery.h"
#include "runtime/guest_api_request.h"
#include "wop_abi.h"

namespace wop::runtime {
using hostcalls::hostError;

namespace {

using hostcalls::HostCallError;
using Json = nlohmann::json;

// The answer a guest gets for a call that failed without a response of its own: a metav1.Status,
// like the server's. Messages are valid UTF-8 already (kube/api_error.cc); replace anyway,
// since a throwing dump on the I/O thread would end the host.
std::string statusBody(const kube::ApiError& error) {
  return Json({{"kind", "Status"},
               {"apiVersion", "v1"},
               {"status", "Failure"},
               {"reason", kube::apiReasonName(error.reason)},
               {"message", error.message},
               {"code", error.httpStatus}})
      .dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

ApiCalls::ApiCalls(kube::Client& client, std::string operatorName, kube::RequestOptions identity,
                   std::function<void()> answered)
    : client_(client),
      operatorName_(std::move(operatorName)),
      identity_(std::move(identity)),
      answered_(std::move(answered)) {}

bool ApiCalls::reserve(size_t bytes) {
  size_t held = heldBytes_.load();
  do {
    if (bytes > limits::kMaxHeldBytesPerOperator - std::min(held, limits::kMaxHeldBytesPerOperator))
      return false;
  } while (!heldBytes_.compare_exchange_weak(held, held + bytes));
  return true;
}

void ApiCalls::release(size_t bytes) {
  size_t held = heldBytes_.load();
  while (!heldBytes_.compare_exchange_weak(held, held - std::min(bytes, held))) {
  }
}

hostcalls::HostResult<uint32_t> ApiCalls::call(std::string_view requestJson) {
  // A call waiting for discovery counts as pending too: it is released only by its answer.
  if (pending_ >= static_cast<int>(WOP_MAX_PENDING_CALLS)) {
    return hostError(WOP_ERR_LIMIT,
                     "more than " + std::to_string(WOP_MAX_PENDING_CALLS) + " API calls in flight");
  }
  auto request = parseGuestApiRequest(requestJson);
  if (!request) return hostError(WOP_ERR_INVALID_ARGUMENT, request.status().message());
  std::optional<kube::ApiResult<kube::ResourceInfo>> resource;
  if (request->verb == "event") {
    resource = kube::ResourceInfo{{"", "v1", "events"}, "Event", true};
  } else {
    resource = client_.discovery().cachedKind(request->apiVersion, request->kind);
  }
  if (resource && !*resource) {
    const auto& error = (*resource).error();
    return hostError(
        error.reason == kube::ApiReason::kBadRequest ? WOP_ERR_INVALID_ARGUMENT : WOP_ERR_NOT_FOUND,
        error.toString());
  }
  std::optional<kube::HttpRequest> http;
  if (resource) {
    auto built = toHttpRequest(*request, **resource, operatorName_);
    if (!built) return hostError(WOP_ERR_INVALID_ARGUMENT, built.status().message());
    http = std::move(*built);
  }
  // The host holds the request body until the answer comes, then the answer until delivered.
  const size_t requestBytes = request->body.size();
  if (!reserve(requestBytes)) {
    return hostError(WOP_ERR_LIMIT, "the host already holds " + std::to_string(heldBytes_.load()) +
                                        " bytes for this operator's calls and answers (at most " +
                                        std::to_string(limits::kMaxHeldBytesPerOperator) + ")");
  }
  const uint32_t token = nextToken_++;
  const uint64_t generation = generation_;
  pending_++;
  calls_++;
  if (http) {
    send(token, generation, std::move(*http), requestBytes);
    return token;
  }
  // A discovery miss: the worker goes on; the call continues on the I/O thread once the
  // group/version is known (principle 3: waiting holds no thread).
  std::weak_ptr<ApiCalls> weak = weak_from_this();
  const std::string apiVersion = request->apiVersion, kind = request->kind;  // request moves below
  client_.discovery().forKindAsync(
      apiVersion, kind,
      [weak, token, generation, requestBytes,
       request = std::move(*request)](kube::ApiResult<kube::ResourceInfo> found) {
        auto self = weak.lock();
        if (!self) return;
        if (!found) {
          self->complete(token, generation, requestBytes, found.error());
          return;
        }
        auto built = toHttpRequest(request, *found, self->operatorName_);
        if (!built) {
          self->complete(
              token, generation, requestBytes,
              kube::ApiError{kube::ApiReason::kBadRequest, 400, built.status().message(), {}});
          return;
        }
        self->send(token, generation, std::move(*built), requestBytes);
      });
  return token;
}

void ApiCalls::send(uint32_t token, uint64_t generation, kube::HttpRequest http,
                    size_t requestBytes) {
  std::weak_ptr<ApiCalls> weak = weak_from_this();
  client_.executeAsync(
      std::move(http), identity_,
      [weak, token, generation, requestBytes](kube::ApiResult<kube::HttpResponse> result) {
        if (auto self = weak.lock())
          self->complete(token, generation, requestBytes, std::move(result));
      });
}

void ApiCalls::complete(uint32_t token, uint64_t generation, size_t requestBytes,
                        kube::ApiResult<kube::HttpResponse> result) {
  release(requestBytes);
  if (generation != generation_) return;  // for an instance that is gone
  Completion completion{token, 0, {}};
  if (result) {
    completion.status = result->status;
    completion.body = std::move(result->body);
  } else {
    const auto& error = result.error();
    completion.status = error.httpStatus != 0 ? error.httpStatus : WOP_ERR_UNAVAILABLE;
    completion.body = statusBody(error);
  }
  queue(generation, std::move(completion));
}

ApiCalls::Slot ApiCalls::open() {
  pending_++;
  return {nextToken_++, generation_};
}

void ApiCalls::deliver(Slot slot, int32_t status, std::string body) {
  if (slot.generation != generation_) return;
  queue(slot.generation, Completion{slot.token, status, std::move(body)});
}

void ApiCalls::abandon(Slot slot) {
  if (slot.generation == generation_) pending_--;
}

void ApiCalls::queue(uint64_t generation, Completion completion) {
  if (!reserve(completion.body.size())) {
    kube::ApiError over{kube::ApiReason::kRequestEntityTooLarge,
                        0,
                        "the answer of " + std::to_string(completion.body.size()) +
                            " bytes would make the host hold more than " +
                            std::to_string(limits::kMaxHeldBytesPerOperator) +
                            " bytes for this operator; it was dropped",
                        {}};
    completion.status = WOP_ERR_LIMIT;
    completion.body = statusBody(over);
    heldBytes_ += completion.body.size();  // small; counted so delivery can release it
  }
  {
    std::lock_guard lock(mutex_);
    answers_.emplace_back(generation, std::move(completion));
  }
  answered_();
}

std::optional<Completion> ApiCalls::take() {
  while (true) {
    std::pair<uint64_t, Completion> answer;
    {
      std::lock_guard lock(mutex_);
      if (answers_.empty()) return std::nullopt;
      answer = std::move(answers_.front());
      answers_.pop_front();
    }
    release(answer.second.body.size());
    if (answer.first != generation_) continue;  // queued before its instance was dropped
    pending_--;
    return std::move(answer.second);
  }
}

bool ApiCalls::hasAnswers() const {
  std::lock_guard lock(mutex_);
  return !answers_.empty();
}

void ApiCalls::dropAll() {
  generation_++;
  pending_ = 0;
  std::lock_guard lock(mutex_);
  for (const auto& answer : answers_) release(answer.second.body.size());
  answers_.clear();
}

}  // namespace wop::runtime
