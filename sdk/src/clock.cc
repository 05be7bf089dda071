#include "wop/clock.h"

#include <chrono>
#include <cstdio>

namespace wop::sdk {

namespace {

class SystemClock final : public Clock {
 public:
  int64_t nowUnixNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

struct Civil {
  int64_t year;
  unsigned month, day, hour, minute, second;
  int64_t micros;
};

// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days), so
// the format needs no gmtime and gives the same answer natively and in wasm.
Civil civilOf(int64_t unixNanos) {
  constexpr int64_t kNanosPerSecond = 1'000'000'000;
  int64_t seconds = unixNanos / kNanosPerSecond;
  int64_t nanos = unixNanos % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    --seconds;
  }
  int64_t days = seconds / 86400;
  int64_t inDay = seconds % 86400;
  if (inDay < 0) {
    inDay += 86400;
    --days;
  }
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto dayOfEra = static_cast<unsigned>(days - era * 146097);
  const unsigned yearOfEra =
      (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365;
  const unsigned dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
  const unsigned monthIndex = (5 * dayOfYear + 2) / 153;
  const unsigned day = dayOfYear - (153 * monthIndex + 2) / 5 + 1;
  const unsigned month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const int64_t year = static_cast<int64_t>(yearOfEra) + era * 400 + (month <= 2 ? 1 : 0);
  return {year,
          month,
          day,
          static_cast<unsigned>(inDay / 3600),
          static_cast<unsigned>(inDay % 3600 / 60),
          static_cast<unsigned>(inDay % 60),
          nanos / 1000};
}

std::string format(int64_t unixNanos, bool micros) {
  const Civil c = civilOf(unixNanos);
  char text[48];
  int length =
      std::snprintf(text, sizeof text, "%04lld-%02u-%02uT%02u:%02u:%02u",
                    static_cast<long long>(c.year), c.month, c.day, c.hour, c.minute, c.second);
  if (micros) {
    length += std::snprintf(text + length, sizeof text - length, ".%06lld",
                            static_cast<long long>(c.micros));
  }
  return std::string(text, length) + "Z";
}

}  // namespace

const Clock& systemClock() {
  static const SystemClock clock;
  return clock;
}

std::string formatRfc3339(int64_t unixNanos) { return format(unixNanos, false); }
std::string formatMicroTime(int64_t unixNanos) { return format(unixNanos, true); }

}  // namespace wop::sdk
