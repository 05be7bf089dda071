// HttpTransport on libcurl's multi interface: one thread, HTTP/2 with multiplexing (many
// watches share one TLS connection per credential set), TLS from the ClientConfig's CA bundle
// and client certificate held in memory.
//
// The loop is event-driven (epoll + curl_multi_socket_action): a readable socket runs only the
// transfers on that connection. curl_multi_perform would run every transfer on every wake-up,
// and libcurl 7.88 polls each one's socket with a zero timeout: with one watch per operator
// that made the I/O thread's work per event grow with the number of operators.
//
// Thread-safety: send/stream/schedule may be called from any thread; they hand work to the
// I/O thread. Destruction stops the loop and completes every pending request with an error.
//
// Error boundary: no exception leaves a curl callback or the I/O loop. One thrown while
// receiving a response (including by a stream's onStatus/onData) aborts that one transfer,
// whose owner gets a transport error naming the reason; one thrown by a response callback, a
// stream's onDone or a scheduled function is logged to stderr as one line; the loop goes on.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "kube/http_transport.h"
#include "kube/kubeconfig.h"

namespace wop::kube {

struct TransportCounters {
  std::atomic<uint64_t> requestsStarted{0};
  std::atomic<uint64_t> streamsStarted{0};
  std::atomic<uint64_t> streamsActive{0};
  std::atomic<uint64_t> bytesReceived{0};
};

class CurlTransport final : public HttpTransport {
 public:
  // server, CA and TLS settings come from config; credentials come with each request.
  explicit CurlTransport(const ClientConfig& config);
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;

  void send(const HttpRequest& request, const RequestAuth& auth, ResponseCallback done) override;
  std::unique_ptr<StreamHandle> stream(const HttpRequest& request, const RequestAuth& auth,
                                       StreamCallbacks callbacks) override;
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn) override;
  bool onIoThread() const override;
  void shutdown() override;

  const TransportCounters& counters() const { return counters_; }

  struct Transfer;  // one request in flight; defined in the .cc

 private:
  void post(std::function<void()> fn);  // run on the I/O thread
  void start(std::shared_ptr<Transfer> transfer);
  void finish(CURL* easy, CURLcode code);
  void cancelTransfer(uint64_t id);
  void runLoop();
  void runDueTimers();
  void runPosted();
  void finishDoneTransfers();
  int pollTimeoutMs() const;
  void drainWakeups();
  // libcurl's socket and timer callbacks (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION).
  static int onSocket(CURL* easy, curl_socket_t socket, int what, void* self, void* socketData);
  static int onCurlTimer(CURLM* multi, long timeoutMs, void* self);

  ClientConfig config_;
  TransportCounters counters_;
  std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)> multi_{nullptr, curl_multi_cleanup};

  int epollFd_ = -1;
  int wakeFd_ = -1;  // an eventfd: post() and shutdown() write it to wake the loop

  std::mutex mutex_;  // guards posted_ and stopping_
  std::vector<std::function<void()>> posted_;
  bool stopping_ = false;

  // I/O thread only:
  std::map<uint64_t, std::shared_ptr<Transfer>> transfers_;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>> timers_;
  // When libcurl wants curl_multi_socket_action(CURL_SOCKET_TIMEOUT); one-shot.
  std::optional<std::chrono::steady_clock::time_point> curlDeadline_;
  std::atomic<uint64_t> nextId_{1};

  std::thread thread_;
  std::thread::id threadId_;
};

}  // namespace wop::kube
