// Sending HTTP requests to the API server, asynchronously: one I/O loop serves every request
// and every watch stream of the process, and also runs timers, so list/watch state machines
// (cache/informer) need no thread of their own.
//
// Callbacks run on the I/O loop's thread: they must be short and must not block. Blocking
// helpers (sendAndWait) are for callers on other threads only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/api_error.h"
#include "kube/credentials.h"
#include "kube/request.h"

namespace wop::kube {

struct HttpResponse {
  int status = 0;
  std::string body;
  std::optional<std::string> retryAfter;  // the Retry-After header, if sent
};

// What a request carries besides the request itself: credentials and impersonation.
struct RequestAuth {
  Credentials credentials;
  std::string impersonateUser;  // empty: act as ourselves
  std::vector<std::string> impersonateGroups;
};

struct StreamCallbacks {
  // The response status line arrived. For a non-2xx status the body is collected and reported
  // through onDone as an ApiError instead of onData.
  std::function<void(int status)> onStatus;
  // A chunk of a 2xx streaming body (any size, not aligned to events).
  std::function<void(std::string_view chunk)> onData;
  // The stream ended: nullopt when the server closed it normally (a watch timeout), else why.
  std::function<void(std::optional<ApiError> error)> onDone;
};

// Cancels its stream when destroyed (or on cancel()); safe from any thread, idempotent. After
// cancel() returns no more callbacks of that stream will start.
class StreamHandle {
 public:
  virtual ~StreamHandle() = default;
  virtual void cancel() = 0;
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  using ResponseCallback = std::function<void(ApiResult<HttpResponse>)>;

  // Sends request; calls done exactly once on the I/O thread. Non-2xx statuses are returned as
  // responses (status + body), not errors; errors are only transport failures and timeouts.
  virtual void send(const HttpRequest& request, const RequestAuth& auth, ResponseCallback done) = 0;

  // Starts a streaming request (a watch).
  virtual std::unique_ptr<StreamHandle> stream(const HttpRequest& request, const RequestAuth& auth,
                                               StreamCallbacks callbacks) = 0;

  // Runs fn on the I/O thread after delay (0: as soon as possible).
  virtual void schedule(std::chrono::milliseconds delay, std::function<void()> fn) = 0;

  // True when called from the I/O thread.
  virtual bool onIoThread() const = 0;

  // Stops the I/O loop and waits for it: no callback runs after this returns. Idempotent. The
  // owner calls it before destroying what the callbacks use (Client's destructor does, first).
  virtual void shutdown() {}

  // Blocks the calling thread (never the I/O thread) until the response arrives.
  ApiResult<HttpResponse> sendAndWait(const HttpRequest& request, const RequestAuth& auth);
};

}  // namespace wop::kube
