// An API server that knows one kind of object, Leases, for leader election tests: GET, POST
// and PUT with the real semantics that matter (404 when absent, AlreadyExists on a second
// create, Conflict on a stale resourceVersion), answered at once on the caller's thread.
// Tests play the other candidates by writing the lease directly, and inject failures.
#pragma once

#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "kube/http_transport.h"

namespace wop::server {

class FakeLeaseServer final : public kube::HttpTransport {
 public:
  using Json = nlohmann::json;

  explicit FakeLeaseServer(common::FakeClock& clock) : clock_(clock) {}

  // Another candidate writes the spec (or the object loses its spec when spec is null).
  void writeSpec(const std::string& name, Json spec) {
    Json& object = objects_[name];
    object["apiVersion"] = "coordination.k8s.io/v1";
    object["kind"] = "Lease";
    object["metadata"]["name"] = name;
    object["metadata"]["namespace"] = "ns";
    if (spec.is_null()) {
      object.erase("spec");
    } else {
      object["spec"] = std::move(spec);
    }
    object["metadata"]["resourceVersion"] = std::to_string(++version_);
    raw_.erase(name);
  }
  // GET answers body as it is (a malformed lease); writes still see the last good object.
  void serveRaw(const std::string& name, std::string body) { raw_[name] = std::move(body); }

  std::optional<Json> spec(const std::string& name) const {
    auto it = objects_.find(name);
    if (it == objects_.end()) return std::nullopt;
    return it->second.value("spec", Json());
  }

  // The next write answers 409 Conflict, as if a rival had written just before.
  void loseNextWriteTo(std::string rival) { rival_ = std::move(rival); }
  // Every request fails with 503 until set back to false.
  bool unavailable = false;

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

  void send(const kube::HttpRequest& request, const kube::RequestAuth&,
            ResponseCallback done) override {
    sent.push_back({request.method, request.path, Json::parse(request.body, nullptr, false)});
    done(answer(request));
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

 private:
  static kube::HttpResponse status(int code, const std::string& reason) {
    Json body = {{"kind", "Status"}, {"status", "Failure"}, {"reason", reason}, {"code", code}};
    return {code, body.dump(), std::nullopt};
  }

  kube::HttpResponse answer(const kube::HttpRequest& request) {
    if (unavailable) return status(503, "ServiceUnavailable");
    const std::string prefix = "/apis/coordination.k8s.io/v1/namespaces/ns/leases";
    if (request.path.rfind(prefix, 0) != 0) return status(404, "NotFound");
    std::string name = request.path.substr(prefix.size());
    if (!name.empty() && name[0] == '/') name = name.substr(1);
    Json body = Json::parse(request.body, nullptr, false);
    if (request.method == "POST") name = body["metadata"].value("name", "");
    auto it = objects_.find(name);

    if (request.method == "GET") {
      if (auto raw = raw_.find(name); raw != raw_.end()) return {200, raw->second, std::nullopt};
      if (it == objects_.end()) return status(404, "NotFound");
      return {200, it->second.dump(), std::nullopt};
    }
    if (rival_) {
      writeSpec(name, {{"holderIdentity", *rival_}, {"leaseDurationSeconds", 15}});
      rival_.reset();
      return status(409, request.method == "POST" ? "AlreadyExists" : "Conflict");
    }
    if (request.method == "POST") {
      if (it != objects_.end()) return status(409, "AlreadyExists");
      body["metadata"]["resourceVersion"] = std::to_string(++version_);
      objects_[name] = body;
      return {201, body.dump(), std::nullopt};
    }
    if (request.method == "PUT") {
      if (it == objects_.end()) return status(404, "NotFound");
      const std::string current = it->second["metadata"].value("resourceVersion", "");
      if (body["metadata"].value("resourceVersion", "") != current) {
        return status(409, "Conflict");
      }
      body["metadata"]["resourceVersion"] = std::to_string(++version_);
      it->second = body;
      return {200, body.dump(), std::nullopt};
    }
    return status(405, "MethodNotAllowed");
  }

  common::FakeClock& clock_;
  std::map<std::string, Json> objects_;
  std::map<std::string, std::string> raw_;
  std::optional<std::string> rival_;
  int version_ = 100;
};

}  // namespace wop::server
