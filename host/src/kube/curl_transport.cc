#include "kube/curl_transport.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>
#include <stdexcept>

#include "common/error_boundary.h"
#include "common/limits.h"

namespace wop::kube {
namespace {

using Clock = std::chrono::steady_clock;

// How long the loop may sleep when there is nothing to do; bounds timer latency only if a
// wakeup were lost (it is not: post() wakes the loop).
constexpr int kMaxPollMs = 1000;
// Default timeout of a non-streaming request without its own.
constexpr std::chrono::milliseconds kDefaultRequestTimeout{60'000};
constexpr long kConnectTimeoutMs = 10'000;

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void ensureCurlGlobal() {
  static CurlGlobal global;  // curl_global_init is not thread-safe: run it once
}

bool is2xx(int status) { return status >= 200 && status < 300; }

// Splits "https://host:port" into host and port for CURLOPT_CONNECT_TO.
bool splitServer(const std::string& server, std::string& scheme, std::string& host,
                 std::string& port) {
  const auto schemeEnd = server.find("://");
  if (schemeEnd == std::string::npos) return false;
  scheme = server.substr(0, schemeEnd);
  std::string rest = server.substr(schemeEnd + 3);
  const auto slash = rest.find('/');
  if (slash != std::string::npos) rest = rest.substr(0, slash);
  const auto colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']', colon) == std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  } else {
    host = rest;
    port = scheme == "https" ? "443" : "80";
  }
  return true;
}

}  // namespace

struct CurlTransport::Transfer {
  uint64_t id = 0;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy{nullptr, curl_easy_cleanup};
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers{nullptr, curl_slist_free_all};
  std::string url;
  std::string connectTo;
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> connectToList{nullptr,
                                                                            curl_slist_free_all};
  std::string requestBody;
  std::string certPem, keyPem;  // must outlive the easy handle's use of them

  int status = 0;
  std::string body;
  std::optional<std::string> retryAfter;
  bool tooLarge = false;
  // Set when one of our curl callbacks (or a stream callback it ran) threw: why the transfer
  // was aborted.
  std::optional<common::Status> callbackError;

  bool streaming = false;
  bool statusReported = false;
  StreamCallbacks callbacks;
  ResponseCallback done;
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  TransportCounters* counters = nullptr;
};

namespace {

class CurlStreamHandle final : public StreamHandle {
 public:
  CurlStreamHandle(std::function<void()> cancelFn, std::shared_ptr<std::atomic<bool>> cancelled)
      : cancelFn_(std::move(cancelFn)), cancelled_(std::move(cancelled)) {}
  ~CurlStreamHandle() override { cancel(); }
  void cancel() override {
    if (cancelled_->exchange(true)) return;
    cancelFn_();
  }

 private:
  std::function<void()> cancelFn_;
  std::shared_ptr<std::atomic<bool>> cancelled_;
};

void takeHeader(CurlTransport::Transfer* transfer, std::string_view line) {
  constexpr std::string_view kRetryAfter = "retry-after:";
  if (line.size() > kRetryAfter.size()) {
    std::string lower(line.substr(0, kRetryAfter.size()));
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    if (lower == kRetryAfter) {
      std::string value(line.substr(kRetryAfter.size()));
      value.erase(0, value.find_first_not_of(" \t"));
      value.erase(value.find_last_not_of(" \t\r\n") + 1);
      transfer->retryAfter = value;
    }
  }
  // The blank line ends a header block; the last block before the body has the final status.
  if (line == "\r\n" || line == "\n") {
    long code = 0;
    curl_easy_getinfo(transfer->easy.get(), CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200) {  // skip 1xx interim responses
      transfer->status = static_cast<int>(code);
      if (transfer->streaming && !transfer->statusReported && !transfer->cancelled->load()) {
        transfer->statusReported = true;
        if (transfer->callbacks.onStatus) transfer->callbacks.onStatus(transfer->status);
      }
    }
  }
}

// Returns how many bytes were taken; fewer than given aborts the transfer.
size_t takeBody(CurlTransport::Transfer* transfer, std::string_view chunk) {
  transfer->counters->bytesReceived += chunk.size();
  if (transfer->streaming && is2xx(transfer->status)) {
    if (transfer->cancelled->load()) return 0;  // aborts the transfer
    if (transfer->callbacks.onData) transfer->callbacks.onData(chunk);
    return chunk.size();
  }
  if (transfer->body.size() + chunk.size() > limits::kMaxResponseBytes) {
    transfer->tooLarge = true;
    return 0;
  }
  transfer->body.append(chunk);
  return chunk.size();
}

// The error boundary where curl calls us (curl is C: nothing may unwind through it). An
// exception, ours or a stream callback's, aborts this one transfer (a count other than the
// bytes given does), and finish() reports the reason to the transfer's owner.
size_t onHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<CurlTransport::Transfer*>(user);
  const size_t bytes = size * count;
  auto status = common::guard("a response header callback",
                              [&] { takeHeader(transfer, std::string_view(data, bytes)); });
  if (status.isOk()) return bytes;
  transfer->callbackError = std::move(status);
  return 0;
}

size_t onBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<CurlTransport::Transfer*>(user);
  size_t taken = 0;
  auto status = common::guard("a response body callback", [&] {
    taken = takeBody(transfer, std::string_view(data, size * count));
  });
  if (status.isOk()) return taken;
  transfer->callbackError = std::move(status);
  return 0;
}

}  // namespace

CurlTransport::CurlTransport(const ClientConfig& config) : config_(config) {
  ensureCurlGlobal();
  epollFd_ = epoll_create1(EPOLL_CLOEXEC);
  wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epollFd_ < 0 || wakeFd_ < 0) {
    throw std::runtime_error(std::string("cannot make the HTTP client's event loop: ") +
                             std::strerror(errno));
  }
  epoll_event wake{};
  wake.events = EPOLLIN;
  wake.data.fd = wakeFd_;
  epoll_ctl(epollFd_, EPOLL_CTL_ADD, wakeFd_, &wake);

  multi_.reset(curl_multi_init());
  curl_multi_setopt(multi_.get(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETFUNCTION, &CurlTransport::onSocket);
  curl_multi_setopt(multi_.get(), CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_.get(), CURLMOPT_TIMERFUNCTION, &CurlTransport::onCurlTimer);
  curl_multi_setopt(multi_.get(), CURLMOPT_TIMERDATA, this);
  thread_ = std::thread([this] { runLoop(); });
  threadId_ = thread_.get_id();
}

CurlTransport::~CurlTransport() {
  shutdown();
  multi_.reset();  // its cleanup may still call onSocket: before the descriptors close
  close(wakeFd_);
  close(epollFd_);
}

void CurlTransport::shutdown() {
  if (!thread_.joinable() || onIoThread()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  const uint64_t one = 1;
  [[maybe_unused]] auto written = write(wakeFd_, &one, sizeof one);
  thread_.join();
}

bool CurlTransport::onIoThread() const { return std::this_thread::get_id() == threadId_; }

void CurlTransport::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(fn));
  }
  const uint64_t one = 1;
  [[maybe_unused]] auto written = write(wakeFd_, &one, sizeof one);
}

void CurlTransport::schedule(std::chrono::milliseconds delay, std::function<void()> fn) {
  const auto due = Clock::now() + delay;
  post([this, due, fn = std::move(fn)]() mutable { timers_.emplace(due, std::move(fn)); });
}

namespace {

std::shared_ptr<CurlTransport::Transfer> makeTransfer(const ClientConfig& config,
                                                      const HttpRequest& request,
                                                      const RequestAuth& auth) {
  auto transfer = std::make_shared<CurlTransport::Transfer>();
  transfer->easy.reset(curl_easy_init());
  CURL* easy = transfer->easy.get();
  transfer->streaming = request.streaming;

  std::string scheme, host, port;
  std::string base = config.server;
  if (!config.tlsServerName.empty() && splitServer(config.server, scheme, host, port)) {
    // Connect to the real address but name tlsServerName in SNI and certificate checks.
    base = scheme + "://" + config.tlsServerName + ":" + port;
    transfer->connectTo = config.tlsServerName + ":" + port + ":" + host + ":" + port;
    transfer->connectToList.reset(curl_slist_append(nullptr, transfer->connectTo.c_str()));
    curl_easy_setopt(easy, CURLOPT_CONNECT_TO, transfer->connectToList.get());
  }
  transfer->url = base + request.path;
  curl_easy_setopt(easy, CURLOPT_URL, transfer->url.c_str());
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);  // prefer multiplexing over a new connection
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
  if (!request.streaming) {
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(request.timeout.value_or(kDefaultRequestTimeout).count()));
  }

  if (!config.caPem.empty()) {
    curl_blob ca{const_cast<char*>(config.caPem.data()), config.caPem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &ca);
  }
  if (config.insecureSkipTlsVerify) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!auth.credentials.clientCertPem.empty()) {
    transfer->certPem = auth.credentials.clientCertPem;
    transfer->keyPem = auth.credentials.clientKeyPem;
    curl_blob cert{transfer->certPem.data(), transfer->certPem.size(), CURL_BLOB_COPY};
    curl_blob key{transfer->keyPem.data(), transfer->keyPem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
  }

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, ("Accept: " + request.accept).c_str());
  headers = curl_slist_append(headers, "User-Agent: wasm-operator/0.1");
  if (!auth.credentials.bearerToken.empty()) {
    headers = curl_slist_append(headers,
                                ("Authorization: Bearer " + auth.credentials.bearerToken).c_str());
  }
  if (!auth.impersonateUser.empty()) {
    headers = curl_slist_append(headers, ("Impersonate-User: " + auth.impersonateUser).c_str());
    for (const auto& group : auth.impersonateGroups) {
      headers = curl_slist_append(headers, ("Impersonate-Group: " + group).c_str());
    }
  }
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  if (!request.contentType.empty()) {
    headers = curl_slist_append(headers, ("Content-Type: " + request.contentType).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  transfer->headers.reset(headers);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);

  if (request.method != "GET")
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT" ||
      request.method == "PATCH") {
    transfer->requestBody = request.body;
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, transfer->requestBody.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(transfer->requestBody.size()));
  }
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
  return transfer;
}

using Transfer = CurlTransport::Transfer;

// Why the transfer failed, or nullopt when it succeeded.
std::optional<ApiError> outcomeError(Transfer& transfer, CURLcode code) {
  if (transfer.callbackError) return transportError(transfer.callbackError->message());
  std::optional<ApiError> error;
  if (transfer.tooLarge) {
    error =
        decodeError("response larger than " + std::to_string(limits::kMaxResponseBytes) + " bytes");
  } else if (code == CURLE_OPERATION_TIMEDOUT) {
    error = ApiError{
        ApiReason::kTimeout, 0, std::string("request timed out: ") + curl_easy_strerror(code), {}};
  } else if (code != CURLE_OK) {
    error = transportError(std::string(curl_easy_strerror(code)) + " (" + transfer.url + ")");
  }
  if (transfer.streaming && !error && !is2xx(transfer.status)) {
    error = apiErrorFromResponse(transfer.status, transfer.body, transfer.retryAfter);
  }
  return error;
}

// The error boundary where the loop calls its users: if fn throws, one line on stderr names the
// request and the reason. The request is over either way; the loop goes on with the others.
template <class F>
void callOwner(const CurlTransport::Transfer& transfer, std::string_view what, F&& fn) {
  auto status = common::guard(what, std::forward<F>(fn));
  if (!status.isOk()) common::logToStderr(status, transfer.url);
}

// Hands the outcome to the transfer's owner: done, or a stream's onDone.
void complete(Transfer& transfer, std::optional<ApiError> error) {
  if (transfer.streaming) {
    if (!transfer.callbacks.onDone) return;
    callOwner(transfer, "the end callback of a stream", [&] { transfer.callbacks.onDone(error); });
    return;
  }
  if (!transfer.done) return;
  callOwner(transfer, "the response callback", [&] {
    if (error) {
      transfer.done(std::move(*error));
    } else {
      transfer.done(HttpResponse{transfer.status, std::move(transfer.body), transfer.retryAfter});
    }
  });
}

}  // namespace

void CurlTransport::send(const HttpRequest& request, const RequestAuth& auth,
                         ResponseCallback done) {
  auto transfer = makeTransfer(config_, request, auth);
  transfer->done = std::move(done);
  transfer->counters = &counters_;
  counters_.requestsStarted++;
  post([this, transfer] { start(transfer); });
}

std::unique_ptr<StreamHandle> CurlTransport::stream(const HttpRequest& request,
                                                    const RequestAuth& auth,
                                                    StreamCallbacks callbacks) {
  auto transfer = makeTransfer(config_, request, auth);
  transfer->callbacks = std::move(callbacks);
  transfer->counters = &counters_;
  counters_.streamsStarted++;
  const uint64_t id = nextId_++;
  transfer->id = id;
  auto cancelled = transfer->cancelled;
  post([this, transfer] { start(transfer); });
  return std::make_unique<CurlStreamHandle>(
      [this, id] { post([this, id] { cancelTransfer(id); }); }, cancelled);
}

void CurlTransport::start(std::shared_ptr<Transfer> transfer) {
  if (transfer->id == 0) transfer->id = nextId_++;
  if (transfer->cancelled->load()) return;
  auto registered =
      common::guard("starting a request", [&] { transfers_[transfer->id] = transfer; });
  if (!registered.isOk()) {
    complete(*transfer, transportError(registered.message()));
    return;
  }
  if (transfer->streaming) counters_.streamsActive++;
  curl_multi_add_handle(multi_.get(), transfer->easy.get());
}

void CurlTransport::cancelTransfer(uint64_t id) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;
  curl_multi_remove_handle(multi_.get(), it->second->easy.get());
  if (it->second->streaming) counters_.streamsActive--;
  transfers_.erase(it);
}

void CurlTransport::finish(CURL* easy, CURLcode code) {
  Transfer* raw = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &raw);
  auto it = transfers_.find(raw->id);
  if (it == transfers_.end()) return;
  std::shared_ptr<Transfer> transfer = std::move(it->second);
  transfers_.erase(it);
  curl_multi_remove_handle(multi_.get(), easy);
  if (transfer->streaming) counters_.streamsActive--;
  if (transfer->streaming && transfer->cancelled->load()) return;

  std::optional<ApiError> error;
  auto judged =
      common::guard("completing a request", [&] { error = outcomeError(*transfer, code); });
  if (!judged.isOk()) error = transportError(judged.message());
  complete(*transfer, std::move(error));
}

void CurlTransport::runDueTimers() {
  const auto now = Clock::now();
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto fn = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    common::guardOrLog("a function scheduled on the I/O loop", fn);
  }
}

int CurlTransport::onSocket(CURL*, curl_socket_t socket, int what, void* self, void*) {
  auto* transport = static_cast<CurlTransport*>(self);
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(transport->epollFd_, EPOLL_CTL_DEL, socket, nullptr);
    return 0;
  }
  epoll_event event{};
  event.data.fd = socket;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) event.events |= EPOLLIN;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) event.events |= EPOLLOUT;
  // libcurl does not say whether it told us of this socket before: modify, else add.
  if (epoll_ctl(transport->epollFd_, EPOLL_CTL_MOD, socket, &event) != 0 && errno == ENOENT) {
    epoll_ctl(transport->epollFd_, EPOLL_CTL_ADD, socket, &event);
  }
  return 0;
}

int CurlTransport::onCurlTimer(CURLM*, long timeoutMs, void* self) {
  auto* transport = static_cast<CurlTransport*>(self);
  if (timeoutMs < 0) {
    transport->curlDeadline_.reset();
  } else {
    transport->curlDeadline_ = Clock::now() + std::chrono::milliseconds(timeoutMs);
  }
  return 0;
}

void CurlTransport::runPosted() {
  std::vector<std::function<void()>> work;
  {
    std::lock_guard lock(mutex_);
    work.swap(posted_);
  }
  for (auto& fn : work) common::guardOrLog("a task posted to the I/O loop", fn);
}

void CurlTransport::finishDoneTransfers() {
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_.get(), &queued)) {
    if (message->msg != CURLMSG_DONE) continue;
    common::guardOrLog("finishing a transfer",
                       [&] { finish(message->easy_handle, message->data.result); });
  }
}

int CurlTransport::pollTimeoutMs() const {
  auto next = Clock::now() + std::chrono::milliseconds(kMaxPollMs);
  if (!timers_.empty()) next = std::min(next, timers_.begin()->first);
  if (curlDeadline_) next = std::min(next, *curlDeadline_);
  const auto untilNext =
      std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(untilNext, 0, kMaxPollMs));
}

void CurlTransport::drainWakeups() {
  uint64_t count = 0;
  [[maybe_unused]] auto read = ::read(wakeFd_, &count, sizeof count);
}

void CurlTransport::runLoop() {
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    runPosted();
    runDueTimers();

    int running = 0;
    // libcurl's timer is one-shot: it sets a new one from inside socket_action when it
    // needs one. A wait that ends with nothing to do also runs the timeouts, so a timer
    // that was never set cannot stall a transfer for more than kMaxPollMs.
    const int ready = epoll_wait(epollFd_, events, kMaxEvents, pollTimeoutMs());
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wakeFd_) {
        drainWakeups();
        continue;
      }
      int bits = 0;
      if (events[i].events & EPOLLIN) bits |= CURL_CSELECT_IN;
      if (events[i].events & EPOLLOUT) bits |= CURL_CSELECT_OUT;
      if (events[i].events & (EPOLLERR | EPOLLHUP)) bits |= CURL_CSELECT_ERR;
      curl_multi_socket_action(multi_.get(), fd, bits, &running);
    }
    if (ready <= 0 || (curlDeadline_ && *curlDeadline_ <= Clock::now())) {
      curlDeadline_.reset();
      curl_multi_socket_action(multi_.get(), CURL_SOCKET_TIMEOUT, 0, &running);
    }
    finishDoneTransfers();
  }
  // Shutting down: work posted meanwhile still runs (so every request is registered), then
  // requests still waiting get an error (a blocked sendAndWait must return); streams end
  // silently, their owners are going away too.
  runPosted();
  for (auto& [id, transfer] : transfers_) {
    curl_multi_remove_handle(multi_.get(), transfer->easy.get());
    if (!transfer->streaming) complete(*transfer, transportError("transport shut down"));
  }
  transfers_.clear();
  timers_.clear();
}

ApiResult<HttpResponse> HttpTransport::sendAndWait(const HttpRequest& request,
                                                   const RequestAuth& auth) {
  if (onIoThread()) return transportError("sendAndWait called on the I/O thread (would deadlock)");
  auto promise = std::make_shared<std::promise<ApiResult<HttpResponse>>>();
  auto future = promise->get_future();
  send(request, auth,
       [promise](ApiResult<HttpResponse> result) { promise->set_value(std::move(result)); });
  return future.get();
}

}  // namespace wop::kube
