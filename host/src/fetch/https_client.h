// Blocking HTTPS GETs for module downloads (registries, URLs), on the fetcher's own threads:
// never the API server's transport, whose I/O loop must not wait on a slow registry.
//
// Only https:// (redirects too, at most 5: registries redirect blobs to their storage). The
// CA bundle is the system's plus an optional extra file (a private registry's CA). A body
// larger than maxBytes is refused as soon as its size is known; a transfer slower than 1 KiB/s
// for lowSpeedWindow, or longer than timeout, fails; stop aborts it within a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <stop_token>
#include <string>
#include <vector>

#include "common/status.h"

namespace wop::fetch {

struct HttpsReply {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-case; the last of each kept
};

struct HttpsClientOptions {
  std::string extraCaFile;  // PEM certificates trusted beside the system's
  std::chrono::milliseconds connectTimeout{10'000};
  std::chrono::milliseconds timeout{300'000};
  std::chrono::milliseconds lowSpeedWindow{30'000};
};

class HttpsSession;

// The CA bundle (PEM) for curl's CURLOPT_CAINFO_BLOB: the system's bundle followed by
// extraCaFile's certificates; empty when extraCaFile is empty (curl's default bundle then).
// Fails when extraCaFile cannot be read. Shared by every HTTPS client of the host that is not
// the API server's (module downloads, operators' outbound calls).
common::Result<std::string> caBundleWith(const std::string& extraCaFile);

class HttpsClient {
 public:
  // Fails when extraCaFile cannot be read.
  static common::Result<HttpsClient> create(HttpsClientOptions options);

  // headers are "Name: value" lines. A reply of any HTTP status is a reply; errors are
  // transport failures, timeouts, refusals (size, scheme) and stops.
  common::Result<HttpsReply> get(const std::string& url, const std::vector<std::string>& headers,
                                 size_t maxBytes, std::stop_token stop = {}) const;

 private:
  friend class HttpsSession;
  HttpsClient(HttpsClientOptions options, std::string caBundle)
      : options_(std::move(options)), caBundle_(std::move(caBundle)) {}

  HttpsClientOptions options_;
  std::string caBundle_;  // PEM; empty: curl's default
};

// Several GETs in a row on one curl handle: a request to a host already connected reuses its
// TLS connection (a pull's manifest and layer cost one handshake, not two). One thread at a
// time; the client must outlive it.
class HttpsSession {
 public:
  explicit HttpsSession(const HttpsClient& client);
  ~HttpsSession();
  HttpsSession(const HttpsSession&) = delete;
  HttpsSession& operator=(const HttpsSession&) = delete;

  // As HttpsClient::get.
  common::Result<HttpsReply> get(const std::string& url, const std::vector<std::string>& headers,
                                 size_t maxBytes, std::stop_token stop = {});

 private:
  const HttpsClient& client_;
  void* easy_;  // CURL*, kept out of this header
};

}  // namespace wop::fetch
