#include "outbound/outbound_request.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/json_depth.h"
#include "wop_abi.h"

namespace wop::outbound {
namespace {

using common::Status;
using common::StatusCode;
using Json = nlohmann::json;

constexpr size_t kMaxHeaderNameBytes = 256;
// The JSON is flat: {"headers": [[n, v]]} is three levels deep.
constexpr size_t kMaxRequestJsonDepth = 8;

Status invalid(const std::string& what) {
  return Status(StatusCode::kInvalidArgument, "http call: " + what);
}
Status over(const std::string& what) {
  return Status(StatusCode::kResourceExhausted, "http call: " + what);
}

bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  });
  return out;
}

bool transportOwned(const std::string& name) {
  static constexpr std::array<std::string_view, 10> kOwned = {
      "host",    "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te",
      "trailer", "expect",         "http2-settings"};
  return std::find(kOwned.begin(), kOwned.end(), name) != kOwned.end() ||
         name.starts_with("proxy-");
}

int64_t integerField(const Json& object, const char* key, int64_t fallback, bool& ok) {
  auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (!it->is_number_integer()) {
    ok = false;
    return fallback;
  }
  return it->get<int64_t>();
}

}  // namespace

Status checkHeader(std::string_view name, std::string_view value) {
  if (name.empty() || name.size() > kMaxHeaderNameBytes ||
      !std::all_of(name.begin(), name.end(), isTokenChar)) {
    return invalid("a header name must be a token (letters, digits, !#$%&'*+-.^_`|~), 1-256 bytes");
  }
  if (name.size() + 2 + value.size() > WOP_HTTP_MAX_HEADER_BYTES) {
    return over("a header line is longer than " + std::to_string(WOP_HTTP_MAX_HEADER_BYTES) +
                " bytes");
  }
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
      return invalid("header " + lower(name) + ": a value may not hold CR, LF or control bytes");
    }
  }
  if (transportOwned(lower(name))) {
    return invalid("header " + lower(name) + " is set by the host, not by the operator");
  }
  return Status::ok();
}

common::Result<OutboundRequest> parseOutboundRequest(std::string_view json, bool allowHttp) {
  if (!common::jsonDepthWithin(json, kMaxRequestJsonDepth)) {
    return invalid("the request is nested too deep");
  }
  const Json doc = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return invalid("the request must be a JSON object");
  OutboundRequest request;

  auto method = doc.find("method");
  if (method != doc.end()) {
    if (!method->is_string()) return invalid("method must be a string");
    request.method = method->get<std::string>();
    static constexpr std::array<std::string_view, 7> kMethods = {
        WOP_HTTP_GET,   WOP_HTTP_HEAD,   WOP_HTTP_POST,   WOP_HTTP_PUT,
        WOP_HTTP_PATCH, WOP_HTTP_DELETE, WOP_HTTP_OPTIONS};
    if (std::find(kMethods.begin(), kMethods.end(), request.method) == kMethods.end()) {
      return invalid("method must be GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS");
    }
  }

  auto url = doc.find("url");
  if (url == doc.end() || !url->is_string()) return invalid("url (a string) is required");
  auto parsedUrl = parseOutboundUrl(url->get_ref<const std::string&>(), allowHttp);
  if (!parsedUrl) {
    return Status(parsedUrl.status().code(), "http call: url: " + parsedUrl.status().message());
  }
  request.url = std::move(*parsedUrl);

  if (auto headers = doc.find("headers"); headers != doc.end()) {
    if (!headers->is_array()) return invalid("headers must be a list of [name, value] pairs");
    if (headers->size() > WOP_HTTP_MAX_HEADERS) {
      return over("more than " + std::to_string(WOP_HTTP_MAX_HEADERS) + " headers");
    }
    for (const Json& pair : *headers) {
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
        return invalid("headers must be a list of [name, value] pairs of strings");
      }
      const auto& name = pair[0].get_ref<const std::string&>();
      const auto& value = pair[1].get_ref<const std::string&>();
      if (auto checked = checkHeader(name, value); !checked.isOk()) return checked;
      request.headers.emplace_back(name, value);
    }
  }

  if (auto body = doc.find("body"); body != doc.end()) {
    if (!body->is_string()) return invalid("body must be a base64 string");
    const auto& text = body->get_ref<const std::string&>();
    if (text.size() / 4 * 3 > WOP_HTTP_MAX_REQUEST_BODY_BYTES + 3) {
      return over("the body is larger than " + std::to_string(WOP_HTTP_MAX_REQUEST_BODY_BYTES) +
                  " bytes");
    }
    auto decoded = common::base64Decode(text);
    if (!decoded) return invalid("body is not valid base64 (standard alphabet, padded)");
    if (decoded->size() > WOP_HTTP_MAX_REQUEST_BODY_BYTES) {
      return over("the body is larger than " + std::to_string(WOP_HTTP_MAX_REQUEST_BODY_BYTES) +
                  " bytes");
    }
    request.body = std::move(*decoded);
  }
  if (!request.body.empty() &&
      (request.method == WOP_HTTP_GET || request.method == WOP_HTTP_HEAD)) {
    return invalid("a GET or HEAD request has no body");
  }

  bool ok = true;
  const int64_t timeout = integerField(doc, "timeoutMs", WOP_HTTP_DEFAULT_TIMEOUT_MS, ok);
  if (!ok || timeout < 1) return invalid("timeoutMs must be a positive integer");
  if (timeout > static_cast<int64_t>(WOP_HTTP_MAX_TIMEOUT_MS)) {
    return over("timeoutMs is above " + std::to_string(WOP_HTTP_MAX_TIMEOUT_MS));
  }
  request.timeout = std::chrono::milliseconds(timeout);
  const int64_t maxResponse =
      integerField(doc, "maxResponseBytes", WOP_HTTP_DEFAULT_RESPONSE_BYTES, ok);
  if (!ok || maxResponse < 0) return invalid("maxResponseBytes must be a non-negative integer");
  if (maxResponse > static_cast<int64_t>(WOP_HTTP_MAX_RESPONSE_BYTES)) {
    return over("maxResponseBytes is above " + std::to_string(WOP_HTTP_MAX_RESPONSE_BYTES));
  }
  request.maxResponseBytes = static_cast<size_t>(maxResponse);
  return request;
}

}  // namespace wop::outbound
