// Operators' outbound HTTPS requests (wop_http_call), sent on one I/O thread of their own with
// libcurl's multi interface: a waiting request holds a curl handle and its buffers, never a
// thread, so a server that answers slowly or not at all costs its caller time, not the host a
// worker. Separate from the API server's transport: an operator's slow service never sits in
// the loop that carries watches.
//
// Every connection is checked where curl opens its socket (CURLOPT_OPENSOCKETFUNCTION) against
// the AddressPolicy, on the resolved address, so no name leads around it. TLS is verified
// against the system's CAs plus the host's --module-ca-file (fetch::caBundleWith). No
// redirect is followed (a 3xx is the answer; the guest may call the Location itself, which is
// checked again); no proxy from the environment is used; no content decoding is asked for.
// Limits: the request's timeout (the whole exchange), its maxResponseBytes, WOP_HTTP_MAX_HEADERS
// and WOP_HTTP_MAX_HEADERS_BYTES for response headers, and kMaxTransfers in flight host-wide.
// Response headers reach the caller with names lower-cased and values made valid UTF-8 with
// control bytes as spaces, so no log line or JSON writer downstream sees raw network bytes.
//
// Thread-safety: send() from any thread; done runs on the client's I/O thread and must not
// block. Destruction stops the loop and completes what is in flight with Unavailable.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "outbound/address_policy.h"
#include "outbound/outbound_request.h"

namespace wop::outbound {

struct OutboundResponse {
  int status = 0;
  Headers headers;  // in order received; names lower-case
  std::string body;
};

struct OutboundOptions {
  std::string extraCaFile;  // PEM certificates trusted beside the system's
  bool allowHttp = false;   // http:// too (tests on loopback); never by default
  std::chrono::milliseconds connectTimeout{10'000};
  size_t maxTransfers = 1024;  // in flight, all operators together
};

class OutboundClient {
 public:
  using Done = std::function<void(common::Result<OutboundResponse>)>;

  // Fails when the CA file cannot be read.
  static common::Result<std::unique_ptr<OutboundClient>> create(OutboundOptions options,
                                                                AddressPolicy policy);
  ~OutboundClient();
  OutboundClient(const OutboundClient&) = delete;
  OutboundClient& operator=(const OutboundClient&) = delete;

  // Starts request; done is called exactly once, on the I/O thread, unless send fails at once
  // (too many transfers in flight, the URL's address refused): then it is not called. Errors
  // in done: PermissionDenied-like refusals as FailedPrecondition (an address the policy
  // refuses), DeadlineExceeded, ResourceExhausted (a response over a limit), Unavailable.
  common::Status send(OutboundRequest request, Done done);

  const AddressPolicy& policy() const { return policy_; }
  bool allowHttp() const { return options_.allowHttp; }
  size_t inFlight() const { return inFlight_.load(); }

  struct Transfer;  // one request in flight; in the .cc

 private:
  OutboundClient(OutboundOptions options, AddressPolicy policy, std::string caBundle);
  void post(std::shared_ptr<Transfer> transfer);
  void runLoop();
  void finish(CURL* easy, CURLcode code);

  const OutboundOptions options_;
  const AddressPolicy policy_;
  const std::string caBundle_;  // PEM; empty: curl's default
  std::atomic<size_t> inFlight_{0};
  std::unique_ptr<CURLM, decltype(&curl_multi_cleanup)> multi_{nullptr, curl_multi_cleanup};

  std::mutex mutex_;  // guards posted_, stopping_
  std::vector<std::shared_ptr<Transfer>> posted_;
  bool stopping_ = false;
  std::vector<std::shared_ptr<Transfer>> active_;  // I/O thread only
  std::thread thread_;
};

}  // namespace wop::outbound
