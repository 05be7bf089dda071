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
  size_t maxEventBytes_;
  // Implementation state (scan position, depth, in-string flags) as the implementer needs.
  std::string buffer_;
  size_t scanned_ = 0;
  int depth_ = 0;
  bool inString_ = false;
  bool escaped_ = false;
};

}  // namespace wop::kube
