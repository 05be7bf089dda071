// An HttpTransport for unit tests of list/watch state machines (cache::Informer) on virtual
// time. Unlike FakeTransport, nothing happens by itself:
//   - requests wait until the test answers them (respond / fail), oldest first;
//   - watch streams stay open until the test pushes chunks or events into them, ends them
//     normally, or fails them (an HTTP status such as 410, or a transport error);
//   - schedule(delay, fn) sets a timer on a common::ManualTimers, so scheduled work runs only
//     when the test calls runDue() or advance(by) on the FakeClock.
// The test thread plays the I/O thread: every callback runs on it, inside those calls.
//
// Thread-safety: none; one test thread.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/timers.h"
#include "kube/http_transport.h"

namespace wop::kube {

class FakeWatchTransport final : public HttpTransport {
 public:
  // One watch request the code under test opened.
  class Stream {
   public:
    const HttpRequest& request() const { return request_; }
    // True once the code under test cancelled it (or destroyed its handle) or it ended.
    bool closed() const { return cancelled_ || ended_; }
    bool cancelled() const { return cancelled_; }

    // Sends bytes of the 200 response body (the first push also sends the status line).
    void push(std::string_view chunk) {
      if (closed()) return;
      startOk();
      if (!cancelled_ && callbacks_.onData) callbacks_.onData(chunk);
    }
    // Sends one watch event: {"type":<type>,"object":<objectJson>} and a newline.
    void pushEvent(std::string_view type, std::string_view objectJson) {
      push(std::string(R"({"type":")") + std::string(type) + R"(","object":)" +
           std::string(objectJson) + "}\n");
    }
    // An ERROR event carrying a metav1.Status with this code (410: the resourceVersion is gone).
    void pushError(int code, std::string_view reason = "Expired") {
      pushEvent("ERROR", R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":")" +
                             std::string(reason) + R"(","code":)" + std::to_string(code) + "}");
    }
    void pushBookmark(std::string_view resourceVersion) {
      pushEvent("BOOKMARK",
                R"({"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":")" +
                    std::string(resourceVersion) + R"("}})");
    }
    // The server closed the stream normally (its timeoutSeconds ran out).
    void end() { finish(std::nullopt); }
    // The server answered the watch with a non-2xx status and this body (e.g. 410 Gone).
    void failWithStatus(int status, std::string_view body = "") {
      if (closed()) return;
      if (callbacks_.onStatus) callbacks_.onStatus(status);
      if (cancelled_) return;
      finish(apiErrorFromResponse(status, body));
    }
    // The connection broke.
    void drop(std::string message = "connection reset") {
      finish(transportError(std::move(message)));
    }

   private:
    friend class FakeWatchTransport;
    Stream(HttpRequest request, StreamCallbacks callbacks)
        : request_(std::move(request)), callbacks_(std::move(callbacks)) {}

    void startOk() {
      if (statusSent_) return;
      statusSent_ = true;
      if (callbacks_.onStatus) callbacks_.onStatus(200);
    }
    void finish(std::optional<ApiError> error) {
      if (closed()) return;
      ended_ = true;
      if (callbacks_.onDone) callbacks_.onDone(std::move(error));
    }

    HttpRequest request_;
    StreamCallbacks callbacks_;
    bool statusSent_ = false;
    bool cancelled_ = false;
    bool ended_ = false;
  };

  explicit FakeWatchTransport(common::FakeClock& clock) : timers_(clock) {}

  // ---------------------------------------------------------------- requests

  // Requests sent and not answered yet, oldest first.
  size_t pendingRequests() const { return pending_.size(); }
  const HttpRequest& nextRequest() const { return pending_.front().request; }
  // Answers the oldest pending request. Returns false if there is none.
  bool respond(int status, std::string body = "{}") {
    return answer(HttpResponse{status, std::move(body), std::nullopt});
  }
  bool fail(ApiError error) { return answer(std::move(error)); }

  // Every request and watch sent, in order.
  std::vector<HttpRequest> sent;

  // ---------------------------------------------------------------- streams

  size_t streamCount() const { return streams_.size(); }
  Stream& stream(size_t index) { return *streams_.at(index); }
  Stream& lastStream() { return *streams_.back(); }
  // Streams neither cancelled nor ended.
  size_t openStreams() const {
    size_t open = 0;
    for (const auto& stream : streams_) open += stream->closed() ? 0 : 1;
    return open;
  }

  // ---------------------------------------------------------------- time

  common::ManualTimers& timers() { return timers_; }
  // Runs the work scheduled for now (schedule(0, ...)), and what that schedules for now.
  void runDue() { timers_.runDue(); }
  void advance(common::Duration by) { timers_.advance(by); }

  // ---------------------------------------------------------------- HttpTransport

  void send(const HttpRequest& request, const RequestAuth&, ResponseCallback done) override {
    sent.push_back(request);
    pending_.push_back({request, std::move(done)});
  }

  std::unique_ptr<StreamHandle> stream(const HttpRequest& request, const RequestAuth&,
                                       StreamCallbacks callbacks) override {
    sent.push_back(request);
    streams_.push_back(std::shared_ptr<Stream>(new Stream(request, std::move(callbacks))));
    return std::make_unique<Handle>(streams_.back());
  }

  void schedule(std::chrono::milliseconds delay, std::function<void()> fn) override {
    timers_.after(delay, std::move(fn));
  }

  // The test thread is the I/O thread: a blocking Client call from it fails at once instead
  // of waiting for an answer only the test itself could give.
  bool onIoThread() const override { return true; }

 private:
  struct Pending {
    HttpRequest request;
    ResponseCallback done;
  };

  class Handle final : public StreamHandle {
   public:
    explicit Handle(std::shared_ptr<Stream> stream) : stream_(std::move(stream)) {}
    ~Handle() override { cancel(); }
    void cancel() override { stream_->cancelled_ = true; }

   private:
    std::shared_ptr<Stream> stream_;
  };

  bool answer(ApiResult<HttpResponse> result) {
    if (pending_.empty()) return false;
    auto pending = std::move(pending_.front());
    pending_.pop_front();
    pending.done(std::move(result));
    return true;
  }

  common::ManualTimers timers_;
  std::deque<Pending> pending_;
  std::vector<std::shared_ptr<Stream>> streams_;
};

}  // namespace wop::kube
