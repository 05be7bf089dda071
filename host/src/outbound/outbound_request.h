// A guest's outbound HTTP request (the wop_http_call JSON, abi/wop_abi.h), decoded and checked
// field by field before it goes near a URL, a header list or a timer. Pure: no I/O.
//
// Headers: a name is an RFC 9110 token (at most 256 bytes); a value holds no CR, LF, NUL or
// other control byte but tab; each line is at most WOP_HTTP_MAX_HEADER_BYTES, at most
// WOP_HTTP_MAX_HEADERS of them. The transport owns Host, Content-Length, Transfer-Encoding,
// Connection, Keep-Alive, Upgrade, TE, Trailer, Expect, Proxy-* and HTTP/2 pseudo-headers:
// a guest setting one is refused.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "outbound/outbound_url.h"

namespace wop::outbound {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct OutboundRequest {
  std::string method = "GET";
  OutboundUrl url;
  Headers headers;
  std::string body;  // decoded bytes
  std::chrono::milliseconds timeout{0};
  size_t maxResponseBytes = 0;
};

// Errors are InvalidArgument (malformed) or ResourceExhausted (over a WOP_HTTP_* limit), with a
// message naming the field and never quoting the guest's bytes.
common::Result<OutboundRequest> parseOutboundRequest(std::string_view json, bool allowHttp = false);

// The header checks alone (for the SDK-independent tests and the fuzzer).
common::Status checkHeader(std::string_view name, std::string_view value);

}  // namespace wop::outbound
