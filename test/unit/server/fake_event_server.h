// An API server that knows events.k8s.io/v1 Events, for the recorder's tests: POST (409
// AlreadyExists on a second create) and merge-PATCH of the series (404 when absent), answered
// at once on the caller's thread, or held until the test answers (to see requests in flight).
// Tests delete Events as the API server's TTL would, and script failures and malformed answers.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kube/http_transport.h"

namespace wop::server {

class FakeEventServer final : public kube::HttpTransport {
 public:
  using Json = nlohmann::json;

  explicit FakeEventServer(common::FakeClock& clock) : clock_(clock) {}

  struct Sent {
    std::string method;
    std::string path;
    Json body;
  };
  std::vector<Sent> sent;
  size_t count(const std::string& method) const {
    size_t n = 0;
    for (const auto& s : sent) n += s.method == method;
    return n;
  }

  // Stored Events by name.
  std::map<std::string, Json> events;
  // The next answers, before any stored-object logic: (status, body as it is).
  std::deque<std::pair<int, std::string>> scripted;
  // Answers wait in held until answerHeld() while true.
  bool hold = false;
  std::deque<std::function<void()>> held;
  void answerHeld() {
    while (!held.empty()) {
      auto answer = std::move(held.front());
      held.pop_front();
      answer();
    }
  }

  void send(const kube::HttpRequest& request, const kube::RequestAuth&,
            ResponseCallback done) override {
    sent.push_back({request.method, request.path, Json::parse(request.body, nullptr, false)});
    auto response = answer(request);
    if (hold) {
      held.push_back([done, response] { done(response); });
      return;
    }
    done(std::move(response));
  }
  std::unique_ptr<kube::StreamHandle> stream(const kube::HttpRequest&, const kube::RequestAuth&,
                                             kube::StreamCallbacks) override {
    return nullptr;
  }
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn) override {
    clock_.advance(delay);
    fn();
  }
  bool onIoThread() const override { return false; }

  static kube::HttpResponse status(int code, const std::string& reason) {
    Json body = {{"kind", "Status"}, {"status", "Failure"}, {"reason", reason}, {"code", code}};
    return {code, body.dump(), std::nullopt};
  }

 private:
  kube::HttpResponse answer(const kube::HttpRequest& request) {
    if (!scripted.empty()) {
      auto [code, body] = std::move(scripted.front());
      scripted.pop_front();
      return {code, std::move(body), std::nullopt};
    }
    Json body = Json::parse(request.body, nullptr, false);
    if (request.method == "POST") {
      const std::string name = body["metadata"].value("name", "");
      if (events.contains(name)) return status(409, "AlreadyExists");
      events[name] = body;
      return {201, body.dump(), std::nullopt};
    }
    if (request.method == "PATCH") {
      const std::string name = request.path.substr(request.path.rfind('/') + 1);
      auto it = events.find(name);
      if (it == events.end()) return status(404, "NotFound");
      it->second.merge_patch(body);
      return {200, it->second.dump(), std::nullopt};
    }
    return status(405, "MethodNotAllowed");
  }

  common::FakeClock& clock_;
};

}  // namespace wop::server
