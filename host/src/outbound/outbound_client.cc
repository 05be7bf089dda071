#include "outbound/outbound_client.h"

#include <sys/socket.h>

#include <algorithm>

#include "common/error_boundary.h"
#include "common/utf8.h"
#include "fetch/https_client.h"
#include "wop_abi.h"

namespace wop::outbound {

using common::Status;
using common::StatusCode;

struct OutboundClient::Transfer {
  OutboundRequest request;
  Done done;
  const AddressPolicy* policy = nullptr;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy{nullptr, curl_easy_cleanup};
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headerList{nullptr,
                                                                         curl_slist_free_all};
  std::string url;
  OutboundResponse response;
  size_t headerBytes = 0;
  std::optional<Status> abort;                // why a callback stopped the transfer
  std::optional<std::string> refusedAddress;  // why the socket callback refused a connection
};

namespace {

using Transfer = OutboundClient::Transfer;

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

std::string lowerToken(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

// A response header line as the caller may see it: a token name, lower-cased, and a value of
// valid UTF-8 without control bytes. A line that is not "name: value" is dropped.
void takeHeaderLine(Transfer& transfer, std::string_view line) {
  if (line.starts_with("HTTP/")) {  // a new header block (after a 1xx): start over
    transfer.response.headers.clear();
    transfer.headerBytes = 0;
    return;
  }
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.empty()) return;
  transfer.headerBytes += line.size();
  if (transfer.response.headers.size() >= WOP_HTTP_MAX_HEADERS ||
      transfer.headerBytes > WOP_HTTP_MAX_HEADERS_BYTES ||
      line.size() > WOP_HTTP_MAX_HEADER_BYTES) {
    transfer.abort =
        Status(StatusCode::kResourceExhausted,
               "the response headers are over the limit (" + std::to_string(WOP_HTTP_MAX_HEADERS) +
                   " lines, " + std::to_string(WOP_HTTP_MAX_HEADERS_BYTES) + " bytes)");
    return;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return;
  const std::string_view name = line.substr(0, colon);
  if (!std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
      })) {
    return;  // not a token: dropped, never passed on
  }
  std::string value = common::toValidUtf8(line.substr(colon + 1));
  for (char& c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) c = ' ';
  }
  const auto first = value.find_first_not_of(' ');
  const auto last = value.find_last_not_of(' ');
  value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
  transfer.response.headers.emplace_back(lowerToken(name), std::move(value));
}

size_t onHeader(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  auto status =
      common::guard("a response header", [&] { takeHeaderLine(transfer, {data, bytes}); });
  if (!status.isOk()) transfer.abort = std::move(status);
  return transfer.abort ? 0 : bytes;
}

size_t onBody(char* data, size_t size, size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (transfer.response.body.size() + bytes > transfer.request.maxResponseBytes) {
    transfer.abort = Status(StatusCode::kResourceExhausted,
                            "the response body is larger than " +
                                std::to_string(transfer.request.maxResponseBytes) + " bytes");
    return 0;
  }
  auto status =
      common::guard("a response body", [&] { transfer.response.body.append(data, bytes); });
  if (!status.isOk()) transfer.abort = std::move(status);
  return transfer.abort ? 0 : bytes;
}

// Where curl opens each connection's socket, after resolving: the address policy's check.
curl_socket_t onOpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto& transfer = *static_cast<Transfer*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN) {
    transfer.refusedAddress = "not an IP connection";
    return CURL_SOCKET_BAD;
  }
  if (auto why = transfer.policy->refusal(&address->addr, address->addrlen)) {
    transfer.refusedAddress = *why;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

}  // namespace

common::Result<std::unique_ptr<OutboundClient>> OutboundClient::create(OutboundOptions options,
                                                                       AddressPolicy policy) {
  auto bundle = fetch::caBundleWith(options.extraCaFile);
  if (!bundle) return bundle.status();
  return std::unique_ptr<OutboundClient>(
      new OutboundClient(std::move(options), std::move(policy), std::move(*bundle)));
}

OutboundClient::OutboundClient(OutboundOptions options, AddressPolicy policy, std::string caBundle)
    : options_(std::move(options)), policy_(std::move(policy)), caBundle_(std::move(caBundle)) {
  static CurlGlobal global;  // curl_global_init is not thread-safe: once
  multi_.reset(curl_multi_init());
  thread_ = std::thread([this] { runLoop(); });
}

OutboundClient::~OutboundClient() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  curl_multi_wakeup(multi_.get());
  if (thread_.joinable()) thread_.join();
}

Status OutboundClient::send(OutboundRequest request, Done done) {
  if (auto why = policy_.refusal(request.url)) {
    return Status(StatusCode::kFailedPrecondition,
                  request.url.authority() + " may not be called: it is " + *why);
  }
  if (inFlight_.fetch_add(1) >= options_.maxTransfers) {
    inFlight_--;
    return Status(StatusCode::kResourceExhausted,
                  "the host has " + std::to_string(options_.maxTransfers) +
                      " outbound requests in flight; try again later");
  }
  auto transfer = std::make_shared<Transfer>();
  transfer->request = std::move(request);
  transfer->done = std::move(done);
  transfer->policy = &policy_;
  transfer->easy.reset(curl_easy_init());
  CURL* easy = transfer->easy.get();
  if (easy == nullptr) {
    inFlight_--;
    return Status(StatusCode::kInternal, "curl_easy_init failed");
  }
  const OutboundRequest& r = transfer->request;
  transfer->url = r.url.text();
  curl_easy_setopt(easy, CURLOPT_URL, transfer->url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, options_.allowHttp ? "https,http" : "https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_PROXY, "");  // none from the environment
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(r.timeout, options_.connectTimeout).count()));
  curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(r.maxResponseBytes));
  curl_blob blob{const_cast<char*>(caBundle_.data()), caBundle_.size(), CURL_BLOB_NOCOPY};
  if (!caBundle_.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &blob);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, onOpenSocket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());

  curl_slist* list = nullptr;
  bool userAgent = false;
  for (const auto& [name, value] : r.headers) {
    list = curl_slist_append(list, (name + ": " + value).c_str());
    userAgent = userAgent || lowerToken(name) == "user-agent";
  }
  if (!userAgent) list = curl_slist_append(list, "User-Agent: wasm-operator");
  list = curl_slist_append(list, "Expect:");
  transfer->headerList.reset(list);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, list);
  if (r.method == WOP_HTTP_HEAD) {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (r.method != WOP_HTTP_GET) {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  if (!r.body.empty() || r.method == WOP_HTTP_POST || r.method == WOP_HTTP_PUT ||
      r.method == WOP_HTTP_PATCH) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  }
  post(std::move(transfer));
  return Status::ok();
}

void OutboundClient::post(std::shared_ptr<Transfer> transfer) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(transfer));
  }
  curl_multi_wakeup(multi_.get());
}

void OutboundClient::finish(CURL* easy, CURLcode code) {
  auto it = std::find_if(active_.begin(), active_.end(),
                         [&](const auto& transfer) { return transfer->easy.get() == easy; });
  if (it == active_.end()) return;
  std::shared_ptr<Transfer> transfer = std::move(*it);
  active_.erase(it);
  curl_multi_remove_handle(multi_.get(), easy);
  inFlight_--;
  const std::string where = transfer->request.url.authority();
  common::Result<OutboundResponse> result = Status(StatusCode::kInternal, "unset");
  if (transfer->abort) {
    result = transfer->abort->withContext(where + ": ");
  } else if (code != CURLE_OK && transfer->refusedAddress) {
    // (With several addresses, one refused and another answering, the answer stands.)
    result = Status(
        StatusCode::kFailedPrecondition,
        where + " resolved to an address that may not be called: " + *transfer->refusedAddress);
  } else if (code == CURLE_FILESIZE_EXCEEDED) {
    result = Status(StatusCode::kResourceExhausted,
                    where + ": the response body is larger than " +
                        std::to_string(transfer->request.maxResponseBytes) + " bytes");
  } else if (code == CURLE_OPERATION_TIMEDOUT) {
    result = Status(StatusCode::kDeadlineExceeded,
                    where + ": no complete answer within " +
                        std::to_string(transfer->request.timeout.count()) + " ms");
  } else if (code != CURLE_OK) {
    result = Status(StatusCode::kUnavailable, where + ": " + curl_easy_strerror(code));
  } else {
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    transfer->response.status = static_cast<int>(status);
    result = std::move(transfer->response);
  }
  common::guardOrLog("an outbound request's callback", [&] { transfer->done(std::move(result)); });
}

void OutboundClient::runLoop() {
  for (;;) {
    std::vector<std::shared_ptr<Transfer>> started;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      started.swap(posted_);
    }
    for (auto& transfer : started) {
      curl_multi_add_handle(multi_.get(), transfer->easy.get());
      active_.push_back(std::move(transfer));
    }
    int running = 0;
    curl_multi_perform(multi_.get(), &running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_.get(), &queued)) {
      if (message->msg == CURLMSG_DONE) finish(message->easy_handle, message->data.result);
    }
    curl_multi_poll(multi_.get(), nullptr, 0, 1000, nullptr);
  }
  std::vector<std::shared_ptr<Transfer>> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(posted_);
  }
  for (auto& transfer : active_) {
    curl_multi_remove_handle(multi_.get(), transfer->easy.get());
    left.push_back(std::move(transfer));
  }
  active_.clear();
  for (auto& transfer : left) {
    inFlight_--;
    common::guardOrLog("an outbound request's callback", [&] {
      transfer->done(Status(StatusCode::kUnavailable, "the host is shutting down"));
    });
  }
}

}  // namespace wop::outbound
