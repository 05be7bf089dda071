#include "fetch/https_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "common/file.h"

namespace wop::fetch {

using common::Status;
using common::StatusCode;

namespace {

constexpr size_t kMaxCaBundleBytes = 4u << 20;

struct Transfer {
  HttpsReply reply;
  size_t maxBytes = 0;
  bool tooLarge = false;
  std::stop_token stop;
};

size_t onBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (transfer->reply.body.size() + n > transfer->maxBytes) {
    transfer->tooLarge = true;
    return 0;  // aborts the transfer
  }
  transfer->reply.body.append(data, n);
  return n;
}

size_t onHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::string line(data, size * count);
  if (line.starts_with("HTTP/")) transfer->reply.headers.clear();  // a redirect's next response
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string value = line.substr(colon + 1);
    const auto first = value.find_first_not_of(" \t");
    const auto last = value.find_last_not_of(" \t\r\n");
    value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
    transfer->reply.headers[name] = value;
  }
  return size * count;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<Transfer*>(user)->stop.stop_requested() ? 1 : 0;
}

// The bundle curl was built to use, for adding an extra CA beside it (a blob replaces it).
std::string systemCaBundle() {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  const std::string path =
      info && info->cainfo ? info->cainfo : "/etc/ssl/certs/ca-certificates.crt";
  auto bytes = common::readFileBytes(path, kMaxCaBundleBytes);
  return bytes ? std::string(bytes->begin(), bytes->end()) : std::string();
}

}  // namespace

common::Result<std::string> caBundleWith(const std::string& extraCaFile) {
  if (extraCaFile.empty()) return std::string();
  auto extra = common::readFileBytes(extraCaFile, kMaxCaBundleBytes);
  if (!extra) return Status(extra.status().code(), "module CA file: " + extra.status().message());
  return systemCaBundle() + "\n" + std::string(extra->begin(), extra->end());
}

common::Result<HttpsClient> HttpsClient::create(HttpsClientOptions options) {
  auto bundle = caBundleWith(options.extraCaFile);
  if (!bundle) return bundle.status();
  return HttpsClient(std::move(options), std::move(*bundle));
}

common::Result<HttpsReply> HttpsClient::get(const std::string& url,
                                            const std::vector<std::string>& headers,
                                            size_t maxBytes, std::stop_token stop) const {
  return HttpsSession(*this).get(url, headers, maxBytes, stop);
}

HttpsSession::HttpsSession(const HttpsClient& client) : client_(client), easy_(curl_easy_init()) {}

HttpsSession::~HttpsSession() {
  if (easy_) curl_easy_cleanup(static_cast<CURL*>(easy_));
}

common::Result<HttpsReply> HttpsSession::get(const std::string& url,
                                             const std::vector<std::string>& headers,
                                             size_t maxBytes, std::stop_token stop) {
  if (!url.starts_with("https://")) {
    return Status(StatusCode::kInvalidArgument, "only https:// addresses are fetched: " + url);
  }
  if (!easy_) return Status(StatusCode::kInternal, "curl_easy_init failed");
  CURL* h = static_cast<CURL*>(easy_);
  // Options go back to their defaults; live connections and TLS sessions stay.
  curl_easy_reset(h);
  const HttpsClientOptions& options = client_.options_;
  const std::string& caBundle = client_.caBundle_;
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> list(nullptr, curl_slist_free_all);
  for (const auto& header : headers) list.reset(curl_slist_append(list.release(), header.c_str()));
  Transfer transfer{.maxBytes = maxBytes, .stop = stop};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list.get());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(maxBytes));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connectTimeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(std::max<int64_t>(1, options.lowSpeedWindow.count() / 1000)));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, onProgress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_blob blob{const_cast<char*>(caBundle.data()), caBundle.size(), CURL_BLOB_NOCOPY};
  if (!caBundle.empty()) curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
  const CURLcode code = curl_easy_perform(h);
  if (transfer.tooLarge || code == CURLE_FILESIZE_EXCEEDED) {
    return Status(StatusCode::kResourceExhausted,
                  url + ": larger than the limit of " + std::to_string(maxBytes) + " bytes");
  }
  if (code == CURLE_ABORTED_BY_CALLBACK) return Status(StatusCode::kUnavailable, url + ": stopped");
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return Status(StatusCode::kDeadlineExceeded, url + ": " + curl_easy_strerror(code));
  }
  if (code != CURLE_OK) {
    return Status(StatusCode::kUnavailable, url + ": " + curl_easy_strerror(code));
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &transfer.reply.status);
  return std::move(transfer.reply);
}

}  // namespace wop::fetch
