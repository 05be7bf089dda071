#include "kube/watch_decoder.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <optional>

namespace wop::kube {
namespace {

using common::Status;
using common::StatusCode;

// Unknown type names are quoted in errors; a hostile one must not flood the log.
constexpr size_t kMaxQuotedTypeBytes = 64;

bool isJsonWhitespace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::optional<WatchEventType> parseEventType(std::string_view name) {
  if (name == "ADDED") return WatchEventType::kAdded;
  if (name == "MODIFIED") return WatchEventType::kModified;
  if (name == "DELETED") return WatchEventType::kDeleted;
  if (name == "BOOKMARK") return WatchEventType::kBookmark;
  if (name == "ERROR") return WatchEventType::kError;
  return std::nullopt;
}

// The start of an untrusted name, printable, for an error message.
std::string quoteForError(std::string_view text) {
  std::string quoted = "\"";
  for (char c : text.substr(0, kMaxQuotedTypeBytes)) {
    const auto byte = static_cast<unsigned char>(c);
    quoted += (byte < 0x20 || byte == 0x7f) ? '?' : c;
  }
  if (text.size() > kMaxQuotedTypeBytes) quoted += "...";
  return quoted + "\"";
}

Status invalidEvent(std::string message) {
  return Status(StatusCode::kInvalidArgument, "watch event " + message);
}

Status eventTooLarge(size_t bytes, size_t limit, bool complete) {
  return Status(StatusCode::kResourceExhausted,
                "watch event of " + std::string(complete ? "" : "at least ") +
                    std::to_string(bytes) + " bytes exceeds the limit of " + std::to_string(limit) +
                    " bytes");
}

}  // namespace

const char* watchEventTypeName(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "UNKNOWN";
}

common::Status WatchDecoder::feed(std::string_view bytes, std::vector<WatchEvent>& out) {
  if (!failure_.isOk()) return failure_;
  Status status = consume(bytes, out);
  streamOffset_ += bytes.size();
  if (!status.isOk()) {
    failure_ = status;
    // The stream is dead; do not hold up to maxEventBytes for it.
    std::string().swap(buffer_);
  }
  return status;
}

size_t WatchDecoder::bufferedBytes() const { return buffer_.size(); }

// Walks bytes event by event. A completed event is decoded straight from bytes when it began in
// this feed, so the common case (whole events per read) copies nothing; only the unfinished
// tail is kept, and only after checking it against the limit.
Status WatchDecoder::consume(std::string_view bytes, std::vector<WatchEvent>& out) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (depth_ == 0) {
      while (pos < bytes.size() && isJsonWhitespace(bytes[pos])) ++pos;
      if (pos == bytes.size()) break;
      if (bytes[pos] != '{') {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(bytes[pos]));
        return invalidEvent(std::string("stream has unexpected byte ") + hex +
                            " between events at offset " + std::to_string(streamOffset_ + pos));
      }
    }
    const size_t start = pos;
    const size_t end = scanToEventEnd(bytes, pos);
    const size_t eventBytes = buffer_.size() + (std::min(end, bytes.size()) - start);
    if (eventBytes > maxEventBytes_) {
      return eventTooLarge(eventBytes, maxEventBytes_, end != std::string_view::npos);
    }
    if (end == std::string_view::npos) {
      buffer_.append(bytes.substr(start));
      return Status::ok();
    }
    std::string_view event = bytes.substr(start, end - start);
    if (!buffer_.empty()) {
      buffer_.append(event);
      event = buffer_;
    }
    Status status = decodeEvent(event, out);
    buffer_.clear();  // keeps its capacity for the next split event
    if (!status.isOk()) return status;
    pos = end;
  }
  return Status::ok();
}

// Advances the framing state over bytes from pos (which, between events, is the opening '{').
// Returns the index just past the byte that closes the event, or npos if bytes end first.
size_t WatchDecoder::scanToEventEnd(std::string_view bytes, size_t pos) {
  for (; pos < bytes.size(); ++pos) {
    const char c = bytes[pos];
    if (inString_) {
      if (escaped_) {
        escaped_ = false;
      } else if (c == '\\') {
        escaped_ = true;
      } else if (c == '"') {
        inString_ = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        inString_ = true;
        break;
      case '{':
      case '[':
        ++depth_;
        break;
      case '}':
      case ']':
        // A stray closer cannot underflow: the event starts with '{', so depth_ >= 1 here.
        if (--depth_ == 0) return pos + 1;
        break;
      default:
        break;
    }
  }
  return std::string_view::npos;
}

// Parses one complete event with simdjson (which checks everything the framing did not:
// matching brackets, UTF-8, escapes) and keeps "object" re-serialized without whitespace.
// The parser is made per event, not kept: a kept one holds tens of KiB per watch, and most
// watches are idle. Its capacity needs no cap: framing refused events over maxEventBytes_.
Status WatchDecoder::decodeEvent(std::string_view json, std::vector<WatchEvent>& out) {
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (auto error = parser.parse(json.data(), json.size()).get_object().get(root)) {
    return invalidEvent(std::string("is not valid JSON: ") + simdjson::error_message(error));
  }
  std::string_view typeName;
  if (root["type"].get_string().get(typeName)) return invalidEvent("has no string \"type\"");
  const std::optional<WatchEventType> type = parseEventType(typeName);
  if (!type) return invalidEvent("has unknown type " + quoteForError(typeName));
  simdjson::dom::object object;
  if (root["object"].get_object().get(object)) {
    return invalidEvent(std::string("of type ") + watchEventTypeName(*type) +
                        " has no \"object\" object");
  }
  out.push_back(WatchEvent{*type, simdjson::minify(object)});
  return Status::ok();
}

}  // namespace wop::kube
