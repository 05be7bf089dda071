// The Kubernetes API client: requests built by request.h, sent by an HttpTransport, with the
// credentials of the ClientConfig, per-request impersonation (each operator acts as its own
// ServiceAccount), a QPS/burst limiter shared fairly among flows (operators), and retries with
// jittered backoff on 429/5xx/timeouts and connection errors (honouring Retry-After). Non-2xx
// answers become typed ApiErrors.
//
// Objects go in and come out as JSON text, the wire format; callers parse what they need.
//
// Thread-safety: every method may be called from any thread. Blocking methods must not be
// called on the transport's I/O thread (they return an error there); use executeAsync.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/fair_rate_limiter.h"
#include "kube/api_error.h"
#include "kube/credentials.h"
#include "kube/http_transport.h"
#include "kube/kubeconfig.h"
#include "kube/request.h"

namespace wop::kube {

class Discovery;

struct ClientOptions {
  // One host serves many operators, so the defaults are controller-runtime's scaled up;
  // qps <= 0 disables the limiter.
  double qps = 50;
  int burst = 100;
  int maxRetries = 5;
  std::chrono::milliseconds retryBaseDelay{100};
  std::chrono::milliseconds retryMaxDelay{10'000};
  std::chrono::milliseconds requestTimeout{30'000};
};

struct RequestOptions {
  std::string impersonateUser;  // e.g. system:serviceaccount:ops:ring-0
  std::vector<std::string> impersonateGroups;
  // Whose share of the QPS budget the request uses (an operator's name); empty: the
  // impersonated user's, or the host's own when there is none.
  std::string flow;
};

// Attempts by HTTP status (0: no response: a transport failure) and method, as client-go's
// rest_client_requests_total counts them (every attempt, retries included). Methods are the
// client's own constants and statuses three digits, so the map stays small.
class ResponseCounts {
 public:
  void count(int status, const std::string& method);
  std::map<std::pair<int, std::string>, uint64_t> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<int, std::string>, uint64_t> counts_;
};

struct ClientCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> watchesStarted{0};
  ResponseCounts responses;
};

class Client {
 public:
  // Production: a CurlTransport for config.
  explicit Client(ClientConfig config, ClientOptions options = {},
                  common::Clock& clock = common::SystemClock::instance());
  // Tests: any transport (a fake).
  Client(ClientConfig config, std::unique_ptr<HttpTransport> transport, ClientOptions options,
         common::Clock& clock);
  ~Client();

  const ClientConfig& config() const { return config_; }
  HttpTransport& transport() { return *transport_; }
  Discovery& discovery() { return *discovery_; }
  const ClientCounters& counters() const { return counters_; }

  using ResponseCallback = std::function<void(ApiResult<HttpResponse>)>;

  // Sends with auth, limiter and retries; done runs on the I/O thread with the 2xx response
  // or the ApiError of the last attempt.
  void executeAsync(HttpRequest request, const RequestOptions& options, ResponseCallback done);
  ApiResult<HttpResponse> execute(HttpRequest request, const RequestOptions& options = {});

  // Starts a watch (no retries: the informer owns reconnecting). Errors before the stream
  // starts (credentials) come through onDone.
  std::unique_ptr<StreamHandle> watch(HttpRequest request, const RequestOptions& options,
                                      StreamCallbacks callbacks);

  ApiResult<std::string> get(const ResourceInfo& resource, const std::string& ns,
                             const std::string& name, const RequestOptions& options = {});
  // One page of a LIST, as the server sent it (a *List object).
  ApiResult<std::string> list(const ResourceInfo& resource, const std::string& ns,
                              const ListOptions& listOptions, const RequestOptions& options = {});
  ApiResult<std::string> create(const ResourceInfo& resource, const std::string& ns,
                                std::string object, const WriteOptions& writeOptions = {},
                                const RequestOptions& options = {});
  ApiResult<std::string> update(const ResourceInfo& resource, const std::string& ns,
                                const std::string& name, std::string object,
                                const WriteOptions& writeOptions = {},
                                const RequestOptions& options = {});
  ApiResult<std::string> updateStatus(const ResourceInfo& resource, const std::string& ns,
                                      const std::string& name, std::string object,
                                      const WriteOptions& writeOptions = {},
                                      const RequestOptions& options = {});
  ApiResult<std::string> patch(const ResourceInfo& resource, const std::string& ns,
                               const std::string& name, PatchType type, std::string patch,
                               const PatchOptions& patchOptions = {},
                               const RequestOptions& options = {},
                               const std::string& subresource = "");
  // Returns the server's answer: the object (with deletionTimestamp, if finalizers hold it)
  // or a Status.
  ApiResult<std::string> remove(const ResourceInfo& resource, const std::string& ns,
                                const std::string& name, const DeleteOptions& deleteOptions = {},
                                const RequestOptions& options = {});

 private:
  struct Attempt;
  void startAttempt(std::shared_ptr<Attempt> attempt);
  void onAttemptDone(std::shared_ptr<Attempt> attempt, ApiResult<HttpResponse> result);
  ApiResult<RequestAuth> authFor(const RequestOptions& options);
  ApiResult<std::string> bodyOf(ApiResult<HttpResponse> response);

  ClientConfig config_;
  ClientOptions options_;
  common::Clock& clock_;
  std::unique_ptr<CredentialSource> credentials_;
  std::unique_ptr<HttpTransport> transport_;
  common::FairRateLimiter limiter_;
  ClientCounters counters_;
  std::unique_ptr<Discovery> discovery_;
};

}  // namespace wop::kube
