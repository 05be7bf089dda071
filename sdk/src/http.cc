#include "wop/http.h"

#include <nlohmann/json.hpp>

#include "wop/host.h"
#include "wop/runtime.h"
#include "wop_abi.h"

namespace wop::sdk {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = static_cast<uint8_t>(bytes[i]) << 16 |
                       static_cast<uint8_t>(bytes[i + 1]) << 8 | static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < bytes.size()) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// The host writes padded standard base64; anything else decodes to nothing.
bool base64Decode(std::string_view text, std::string* out) {
  if (text.size() % 4 != 0) return false;
  out->clear();
  out->reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    uint32_t n = 0;
    for (int k = 0; k < 4; ++k) {
      const int v = k >= 4 - pad ? 0 : sextet(text[i + k]);
      if (v < 0) return false;
      n = n << 6 | static_cast<uint32_t>(v);
    }
    out->push_back(static_cast<char>(n >> 16));
    if (pad < 2) out->push_back(static_cast<char>((n >> 8) & 0xff));
    if (pad < 1) out->push_back(static_cast<char>(n & 0xff));
  }
  return true;
}

}  // namespace

std::string HttpRequest::toJson() const {
  nlohmann::json request = {{"method", method}, {"url", url}};
  if (!headers.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [name, value] : headers) list.push_back(nlohmann::json::array({name, value}));
    request["headers"] = std::move(list);
  }
  if (!body.empty()) request["body"] = base64Encode(body);
  if (timeoutMs > 0) request["timeoutMs"] = timeoutMs;
  if (maxResponseBytes > 0) request["maxResponseBytes"] = maxResponseBytes;
  // A URL or header that is not UTF-8 is the host's to refuse, not a reason to throw here.
  return request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < key.size() && same; ++i) {
      const char a = key[i], b = name[i];
      same =
          (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == (b >= 'A' && b <= 'Z' ? b - 'A' + 'a' : b);
    }
    if (same) return value;
  }
  return "";
}

std::string HttpResponse::errorMessage() const {
  if (hostError()) {
    std::string message = std::string("http call failed: ") + detail::statusName(status);
    if (!error.empty()) message += ": " + error;
    return message;
  }
  return "HTTP " + std::to_string(status);
}

std::optional<HttpRequest> HttpRequest::fromJson(std::string_view json) {
  auto parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return std::nullopt;
  auto text = [&](const char* key, std::string* out) {
    auto it = parsed.find(key);
    if (it == parsed.end()) return true;
    if (!it->is_string()) return false;
    *out = it->get<std::string>();
    return true;
  };
  auto number = [&](const char* key, uint32_t* out) {
    auto it = parsed.find(key);
    if (it == parsed.end()) return true;
    if (!it->is_number_unsigned()) return false;
    *out = it->get<uint32_t>();
    return true;
  };
  HttpRequest request;
  std::string encodedBody;
  if (!text("method", &request.method) || !text("url", &request.url) || request.url.empty() ||
      !text("body", &encodedBody) || !base64Decode(encodedBody, &request.body) ||
      !number("timeoutMs", &request.timeoutMs) ||
      !number("maxResponseBytes", &request.maxResponseBytes)) {
    return std::nullopt;
  }
  if (auto headers = parsed.find("headers"); headers != parsed.end()) {
    if (!headers->is_array()) return std::nullopt;
    for (const auto& pair : *headers) {
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
        return std::nullopt;
      }
      request.headers.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
    }
  }
  return request;
}

std::string HttpResponse::toCompletionBody() const {
  if (status < 0) return nlohmann::json{{"error", error}}.dump();
  nlohmann::json pairs = nlohmann::json::array();
  for (const auto& [name, value] : headers) pairs.push_back({name, value});
  return nlohmann::json{{"status", status}, {"headers", pairs}, {"body", base64Encode(body)}}
      .dump();
}

HttpResponse HttpResponse::fromCompletion(int32_t status, const std::string& body) {
  HttpResponse response;
  response.status = status;
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return response;
  if (status < 0) {
    for (const char* key : {"error", "message"}) {
      auto it = parsed.find(key);
      if (it != parsed.end() && it->is_string()) response.error = it->get<std::string>();
    }
    return response;
  }
  if (auto headers = parsed.find("headers"); headers != parsed.end() && headers->is_array()) {
    for (const auto& pair : *headers) {
      if (pair.is_array() && pair.size() == 2 && pair[0].is_string() && pair[1].is_string()) {
        response.headers.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
      }
    }
  }
  if (auto encoded = parsed.find("body"); encoded != parsed.end() && encoded->is_string()) {
    if (!base64Decode(encoded->get_ref<const std::string&>(), &response.body)) {
      response.body.clear();
    }
  }
  return response;
}

bool HttpCall::await_ready() {
  if (runtime_ == nullptr) {
    raw_.status = WOP_ERR_UNAVAILABLE;
    return true;
  }
  const int32_t token = runtime_->startHttpCall(request_);
  request_ = {};  // sent: do not keep a copy in the frame while waiting
  if (token <= 0) {
    raw_.status = token < 0 ? token : WOP_ERR_INVALID_ARGUMENT;
    return true;
  }
  token_ = token;
  return false;
}

void HttpCall::await_suspend(std::coroutine_handle<> caller) {
  runtime_->park(token_, caller, &raw_);
}

HttpCall Http::get(std::string_view url) {
  HttpRequest request;
  request.url = std::string(url);
  return send(request);
}

HttpCall Http::send(const HttpRequest& request) { return HttpCall(runtime_, request.toJson()); }

}  // namespace wop::sdk
