#include "kube/client.h"

#include <future>

#include "common/backoff.h"
#include "kube/curl_transport.h"
#include "kube/discovery.h"

namespace wop::kube {

// One logical request across its retries.
struct Client::Attempt {
  HttpRequest request;
  RequestOptions options;
  ResponseCallback done;
  int number = 0;                // 0 for the first try
  bool reauthenticated = false;  // a 401 invalidates credentials once
};

namespace {

bool is2xx(int status) { return status >= 200 && status < 300; }

// A connection error may hit a request the server already executed; only methods that are
// safe to repeat are retried on it (client-go does the same).
bool idempotent(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE";
}

}  // namespace

Client::Client(ClientConfig config, ClientOptions options, common::Clock& clock)
    : Client(config, std::make_unique<CurlTransport>(config), options, clock) {}

Client::Client(ClientConfig config, std::unique_ptr<HttpTransport> transport, ClientOptions options,
               common::Clock& clock)
    : config_(std::move(config)),
      options_(options),
      clock_(clock),
      credentials_(makeCredentialSource(config_, clock)),
      transport_(std::move(transport)),
      limiter_(options.qps, options.burst, clock,
               [this](std::chrono::milliseconds delay, std::function<void()> fn) {
                 transport_->schedule(delay, std::move(fn));
               }),
      discovery_(std::make_unique<Discovery>(*this, clock)) {}

// The transport's I/O thread runs callbacks that use this Client's members (counters_,
// limiter_, discovery_), which are destroyed before transport_: stop it while they all live.
// (A use-after-free of counters_ here, seen under ASan, was the fairness test's heap
// corruption when a test tore down its Client with calls in flight.)
Client::~Client() {
  if (transport_) transport_->shutdown();
}

ApiResult<RequestAuth> Client::authFor(const RequestOptions& options) {
  auto credentials = credentials_->get();
  if (!credentials) {
    return ApiError{ApiReason::kUnauthorized,
                    0,
                    "cannot get credentials: " + credentials.status().message(),
                    {}};
  }
  RequestAuth auth;
  auth.credentials = std::move(*credentials);
  auth.impersonateUser = options.impersonateUser;
  auth.impersonateGroups = options.impersonateGroups;
  return auth;
}

void Client::executeAsync(HttpRequest request, const RequestOptions& options,
                          ResponseCallback done) {
  if (!request.timeout) request.timeout = options_.requestTimeout;
  auto attempt = std::make_shared<Attempt>();
  attempt->request = std::move(request);
  attempt->options = options;
  attempt->done = std::move(done);
  startAttempt(std::move(attempt));
}

void Client::startAttempt(std::shared_ptr<Attempt> attempt) {
  const std::string& flow =
      attempt->options.flow.empty() ? attempt->options.impersonateUser : attempt->options.flow;
  limiter_.acquire(flow, [this, attempt] {
    auto auth = authFor(attempt->options);
    if (!auth) {
      attempt->done(auth.error());
      return;
    }
    counters_.requests++;
    transport_->send(attempt->request, *auth, [this, attempt](ApiResult<HttpResponse> result) {
      onAttemptDone(attempt, std::move(result));
    });
  });
}

void ResponseCounts::count(int status, const std::string& method) {
  std::lock_guard lock(mutex_);
  counts_[{status, method}]++;
}

std::map<std::pair<int, std::string>, uint64_t> ResponseCounts::snapshot() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

void Client::onAttemptDone(std::shared_ptr<Attempt> attempt, ApiResult<HttpResponse> result) {
  counters_.responses.count(result ? result->status : 0, attempt->request.method);
  std::optional<ApiError> error;
  if (!result) {
    error = result.error();
  } else if (!is2xx(result->status)) {
    error = apiErrorFromResponse(result->status, result->body, result->retryAfter);
  }
  if (!error) {
    attempt->done(std::move(result));
    return;
  }
  if (error->reason == ApiReason::kUnauthorized && !attempt->reauthenticated) {
    // Rotated token or expired exec credential: fetch anew and try once more.
    attempt->reauthenticated = true;
    credentials_->invalidate();
    startAttempt(attempt);
    return;
  }
  const bool transportFailure = error->reason == ApiReason::kTransport;
  const bool retry = error->isRetryable() && attempt->number < options_.maxRetries &&
                     (!transportFailure || idempotent(attempt->request.method));
  if (!retry) {
    attempt->done(std::move(*error));
    return;
  }
  auto delay = common::jitteredBackoff(attempt->number, options_.retryBaseDelay,
                                       options_.retryMaxDelay, common::randomUnit());
  if (error->retryAfterSeconds) {
    delay = std::min<std::chrono::milliseconds>(std::chrono::seconds(*error->retryAfterSeconds),
                                                options_.retryMaxDelay * 6);
  }
  attempt->number++;
  counters_.retries++;
  transport_->schedule(delay, [this, attempt] { startAttempt(attempt); });
}

ApiResult<HttpResponse> Client::execute(HttpRequest request, const RequestOptions& options) {
  if (transport_->onIoThread()) {
    return transportError("blocking Client call on the I/O thread (would deadlock)");
  }
  auto promise = std::make_shared<std::promise<ApiResult<HttpResponse>>>();
  auto future = promise->get_future();
  executeAsync(std::move(request), options, [promise](ApiResult<HttpResponse> result) {
    promise->set_value(std::move(result));
  });
  return future.get();
}

std::unique_ptr<StreamHandle> Client::watch(HttpRequest request, const RequestOptions& options,
                                            StreamCallbacks callbacks) {
  auto auth = authFor(options);
  if (!auth) {
    auto onDone = callbacks.onDone;
    transport_->schedule(std::chrono::milliseconds(0), [onDone, error = auth.error()] {
      if (onDone) onDone(error);
    });
    return nullptr;
  }
  limiter_.take();  // a watch counts against the budget, but is not delayed by it
  counters_.watchesStarted++;
  return transport_->stream(request, *auth, std::move(callbacks));
}

ApiResult<std::string> Client::bodyOf(ApiResult<HttpResponse> response) {
  if (!response) return response.error();
  return std::move(response->body);
}

ApiResult<std::string> Client::get(const ResourceInfo& resource, const std::string& ns,
                                   const std::string& name, const RequestOptions& options) {
  return bodyOf(execute(getRequest(resource, ns, name), options));
}

ApiResult<std::string> Client::list(const ResourceInfo& resource, const std::string& ns,
                                    const ListOptions& listOptions, const RequestOptions& options) {
  return bodyOf(execute(listRequest(resource, ns, listOptions), options));
}

ApiResult<std::string> Client::create(const ResourceInfo& resource, const std::string& ns,
                                      std::string object, const WriteOptions& writeOptions,
                                      const RequestOptions& options) {
  return bodyOf(execute(createRequest(resource, ns, std::move(object), writeOptions), options));
}

ApiResult<std::string> Client::update(const ResourceInfo& resource, const std::string& ns,
                                      const std::string& name, std::string object,
                                      const WriteOptions& writeOptions,
                                      const RequestOptions& options) {
  return bodyOf(
      execute(updateRequest(resource, ns, name, std::move(object), writeOptions), options));
}

ApiResult<std::string> Client::updateStatus(const ResourceInfo& resource, const std::string& ns,
                                            const std::string& name, std::string object,
                                            const WriteOptions& writeOptions,
                                            const RequestOptions& options) {
  return bodyOf(execute(
      updateRequest(resource, ns, name, std::move(object), writeOptions, "status"), options));
}

ApiResult<std::string> Client::patch(const ResourceInfo& resource, const std::string& ns,
                                     const std::string& name, PatchType type, std::string patch,
                                     const PatchOptions& patchOptions,
                                     const RequestOptions& options,
                                     const std::string& subresource) {
  return bodyOf(
      execute(patchRequest(resource, ns, name, type, std::move(patch), patchOptions, subresource),
              options));
}

ApiResult<std::string> Client::remove(const ResourceInfo& resource, const std::string& ns,
                                      const std::string& name, const DeleteOptions& deleteOptions,
                                      const RequestOptions& options) {
  return bodyOf(execute(deleteRequest(resource, ns, name, deleteOptions), options));
}

}  // namespace wop::kube
