// A scripted HttpTransport for unit tests: answers requests from a queue, records what was
// sent, and runs scheduled work at once on virtual time (advancing a FakeClock by the delay).
#pragma once

#include <deque>
#include <vector>

#include "common/clock.h"
#include "kube/http_transport.h"

namespace wop::kube {

class FakeTransport final : public HttpTransport {
 public:
  explicit FakeTransport(common::FakeClock& clock) : clock_(clock) {}

  struct Sent {
    HttpRequest request;
    RequestAuth auth;
  };

  void respond(int status, std::string body = "{}", std::optional<std::string> retryAfter = {}) {
    answers_.push_back(HttpResponse{status, std::move(body), std::move(retryAfter)});
  }
  void failWith(ApiError error) { answers_.push_back(std::move(error)); }

  void send(const HttpRequest& request, const RequestAuth& auth, ResponseCallback done) override {
    sent.push_back({request, auth});
    if (answers_.empty()) {
      done(transportError("no scripted answer"));
      return;
    }
    auto answer = std::move(answers_.front());
    answers_.pop_front();
    done(std::move(answer));
  }

  std::unique_ptr<StreamHandle> stream(const HttpRequest& request, const RequestAuth& auth,
                                       StreamCallbacks) override {
    sent.push_back({request, auth});
    return nullptr;
  }

  void schedule(std::chrono::milliseconds delay, std::function<void()> fn) override {
    delays.push_back(delay);
    clock_.advance(delay);
    fn();
  }

  bool onIoThread() const override { return false; }

  std::vector<Sent> sent;
  std::vector<std::chrono::milliseconds> delays;

 private:
  common::FakeClock& clock_;
  std::deque<ApiResult<HttpResponse>> answers_;
};

}  // namespace wop::kube
