// wop_api_call: an operator's requests to the API server, sent as its ServiceAccount, with
// their answers queued until its worker delivers them to the guest (wop_on_complete). A call
// holds no thread while it waits (principle 3): it is sent and answered on the client's I/O
// thread. Bounded per operator: WOP_MAX_PENDING_CALLS calls in flight and
// limits::kMaxHeldBytesPerOperator bytes of request bodies and queued answers.
//
// Thread-safety: call/take/drop on the operator's worker; answers arrive on the I/O thread.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "hostcalls/operator_services.h"
#include "kube/client.h"

namespace wop::runtime {

struct Completion {
  uint32_t token;
  int32_t status;  // the HTTP status, or a WOP_ERR_* when no response came
  std::string body;
};

class ApiCalls : public std::enable_shared_from_this<ApiCalls> {
 public:
  // answered: called on the I/O thread when an answer was queued (the operator schedules itself).
  ApiCalls(kube::Client& client, std::string operatorName, kube::RequestOptions identity,
           std::function<void()> answered);

  // Checks and sends the guest's request; the token names its answer.
  hostcalls::HostResult<uint32_t> call(std::string_view requestJson);

  // Another kind of call answered through wop_on_complete (an outbound HTTP call): a token of
  // the same sequence, counted in pending() until its answer is taken. deliver() queues the
  // answer (any thread), bounded by the same held-bytes budget; dropped if its instance is gone.
  struct Slot {
    uint32_t token;
    uint64_t generation;
  };
  Slot open();
  void deliver(Slot slot, int32_t status, std::string body);
  // The call of slot ended before its token was handed out: no answer will come.
  void abandon(Slot slot);

  // The next answer to deliver, if any; its bytes are released.
  std::optional<Completion> take();
  bool hasAnswers() const;
  // The guest instance is gone: answers to its calls are dropped, now and when they arrive.
  void dropAll();

  int pending() const { return pending_; }
  size_t heldBytes() const { return heldBytes_; }
  uint64_t calls() const { return calls_; }

 private:
  // An API call's request, sent as the operator; its answer comes back through complete().
  void send(uint32_t token, uint64_t generation, kube::HttpRequest http, size_t requestBytes);
  // Queues the answer of call token (any thread) and releases its request's bytes.
  void complete(uint32_t token, uint64_t generation, size_t requestBytes,
                kube::ApiResult<kube::HttpResponse> result);
  // Queues an answer whose bytes are not yet counted (over budget: replaced by a Status).
  void queue(uint64_t generation, Completion completion);
  // False (and nothing reserved) if the operator's budget of held bytes would be exceeded.
  bool reserve(size_t bytes);
  void release(size_t bytes);

  kube::Client& client_;
  const std::string operatorName_;
  const kube::RequestOptions identity_;
  const std::function<void()> answered_;
  std::atomic<uint64_t> generation_{0};  // bumped by dropAll: late answers are for no one
  std::atomic<uint32_t> nextToken_{1};
  std::atomic<int> pending_{0};
  std::atomic<size_t> heldBytes_{0};
  std::atomic<uint64_t> calls_{0};
  mutable std::mutex mutex_;
  std::deque<std::pair<uint64_t, Completion>> answers_;  // by generation
};

}  // namespace wop::runtime
