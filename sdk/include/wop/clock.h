// Clock: the guest's wall clock (WASI clock_time_get, realtime) behind an interface, so the
// helpers that stamp or age things by time (conditions, the event recorder) run on virtual time
// in tests. Times are nanoseconds since the Unix epoch, UTC.
#pragma once

#include <cstdint>
#include <string>

namespace wop::sdk {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t nowUnixNanos() const = 0;
};

// The real clock. Lives for the whole program; stateless, so shared freely.
const Clock& systemClock();

// metav1.Time, seconds: "2026-12-03T12:37:17Z".
std::string formatRfc3339(int64_t unixNanos);
// metav1.MicroTime, microseconds: "2026-12-03T12:37:17.123456Z".
std::string formatMicroTime(int64_t unixNanos);

}  // namespace wop::sdk
