// Splits a watch response stream into events. The API server writes one JSON object per event
// ({"type": "ADDED", "object": {...}}), usually newline-terminated, but a read may end in the
// middle of an event or hold many; framing here follows JSON object boundaries (strings and
// escapes respected), not reads or newlines.
//
// Thread-safety: one decoder per stream, one thread at a time.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/limits.h"
#include "common/status.h"

namespace wop::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

const char* watchEventTypeName(WatchEventType type);

struct WatchEvent {
  WatchEventType type;
  // The raw JSON of the "object" member: the object (ADDED/MODIFIED/DELETED), an object with
  // only metadata.resourceVersion (BOOKMARK), or a metav1.Status (ERROR).
  std::string object;
};

class WatchDecoder {
 public:
  explicit WatchDecoder(size_t maxEventBytes = limits::kMaxWatchEventBytes)
      : maxEventBytes_(maxEventBytes) {}

  // Consumes bytes and appends every event they complete to out. A malformed event (not JSON,
  // no known "type", no "object" object) or one larger than maxEventBytes returns an error
  // naming what was wrong; the stream cannot continue and the caller restarts the watch.
  // Whitespace between events is ignored.
  common::Status feed(std::string_view bytes, std::vector<WatchEvent>& out);

  // Bytes of an incomplete event held until more arrive.
  size_t bufferedBytes() const;

 private:
  common::Status consume(std::string_view bytes, std::vector<WatchEvent>& out);
  size_t scanToEventEnd(std::string_view bytes, size_t pos);
  common::Status decodeEvent(std::string_view json, std::vector<WatchEvent>& out);

  size_t maxEventBytes_;
  // The start of the event in progress, kept only across feeds; each byte is scanned once.
  std::string buffer_;
  // Nesting of {} and [] in the event in progress; 0 between events.
  size_t depth_ = 0;
  bool inString_ = false;
  bool escaped_ = false;
  // Bytes fed so far, to say where a stream went wrong.
  size_t streamOffset_ = 0;
  // The first error; every later feed returns it.
  common::Status failure_;
};

}  // namespace wop::kube
