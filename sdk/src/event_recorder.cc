#include "wop/event_recorder.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>
#include <vector>

#include "wop/log.h"
#include "wop/object.h"

namespace wop::sdk {

namespace {

// The API server's bounds of events.k8s.io/v1 (pkg/apis/core/validation/events.go).
constexpr size_t kMaxReasonBytes = 128;
constexpr size_t kMaxActionBytes = 128;
constexpr size_t kMaxNoteBytes = 1024;
constexpr size_t kMaxReportingInstanceBytes = 128;
constexpr size_t kMaxNameBytes = 253;
constexpr Kind kEvent{"events.k8s.io/v1", "Event"};
constexpr int64_t kNanosPerMs = 1'000'000;

bool isLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool isAlnum(char c) { return isLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// A DNS-1123 subdomain: dot-separated [a-z0-9]([-a-z0-9]*[a-z0-9])? labels, at most 253 bytes.
bool isDnsSubdomain(std::string_view text) {
  if (text.empty() || text.size() > kMaxNameBytes) return false;
  size_t start = 0;
  while (start <= text.size()) {
    size_t dot = text.find('.', start);
    std::string_view label = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || !isLowerAlnum(label.front()) || !isLowerAlnum(label.back())) return false;
    for (char c : label) {
      if (!isLowerAlnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return true;
}

// A qualified name as the API server checks reportingController: [prefix/]name, the prefix a
// DNS subdomain, the name 1..63 of [A-Za-z0-9_.-] starting and ending alphanumeric.
bool isQualifiedName(std::string_view text) {
  std::string_view name = text;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    if (!isDnsSubdomain(text.substr(0, slash))) return false;
    name = text.substr(slash + 1);
  }
  if (name.empty() || name.size() > 63 || !isAlnum(name.front()) || !isAlnum(name.back())) {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return isAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

// The length of the well-formed UTF-8 sequence at text[i], or 0 if it is ill-formed.
size_t utf8Sequence(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char first = byte(i);
  if (first < 0x80) return 1;
  size_t length = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc2 ? 2 : 0;
  if (length == 0 || first > 0xf4 || i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  }
  const unsigned char second = byte(i + 1);
  if ((first == 0xe0 && second < 0xa0) || (first == 0xed && second >= 0xa0) ||
      (first == 0xf0 && second < 0x90) || (first == 0xf4 && second >= 0x90)) {
    return 0;  // overlong, a surrogate, or above U+10FFFF
  }
  return length;
}

// text as valid UTF-8 (an ill-formed byte becomes U+FFFD), cut at a character boundary to at
// most max bytes. The SDK's JSON writer would abort on invalid UTF-8, and the server refuses
// a note over 1 KiB.
std::string validUtf8Within(std::string_view text, size_t max) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const size_t length = utf8Sequence(text, i);
    std::string_view piece = length ? text.substr(i, length) : std::string_view("\xef\xbf\xbd");
    if (out.size() + piece.size() > max) break;
    out += piece;
    i += length ? length : 1;
  }
  return out;
}

// "<regarding name>.<unique as hex>" as client-go names Events, the name made a DNS subdomain
// (some kinds allow names that are not) and cut to leave room for the suffix.
std::string eventName(std::string_view regardingName, int64_t unique) {
  char suffix[24];
  const int length =
      std::snprintf(suffix, sizeof suffix, ".%llx", static_cast<unsigned long long>(unique));
  std::string name;
  for (char c : regardingName.substr(0, kMaxNameBytes - static_cast<size_t>(length))) {
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    name += isLowerAlnum(lower) || lower == '.' || lower == '-' ? lower : '-';
  }
  while (!name.empty() && !isLowerAlnum(name.back())) name.pop_back();
  size_t start = 0;
  while (start < name.size() && !isLowerAlnum(name[start])) ++start;
  name.erase(0, start);
  if (name.empty()) name = "event";
  return name + suffix;
}

const char* typeName(EventType type) { return type == EventType::Warning ? "Warning" : "Normal"; }

void appendKeyPart(std::string& key, std::string_view part) {
  key += std::to_string(part.size());
  key += ':';
  key += part;
}

}  // namespace

namespace detail {

struct EventOccurrence {
  std::string apiVersion;
  std::string kind;
  std::string ns;
  std::string name;
  std::string uid;
  EventType type = EventType::Normal;
  std::string reason;
  std::string action;
  std::string note;

  // What makes two occurrences the same Event.
  std::string key() const {
    std::string key;
    for (std::string_view part :
         {std::string_view(apiVersion), std::string_view(kind), std::string_view(ns),
          std::string_view(name), std::string_view(uid), std::string_view(typeName(type)),
          std::string_view(reason), std::string_view(action), std::string_view(note)}) {
      appendKeyPart(key, part);
    }
    return key;
  }
  std::string budget() const {
    std::string key;
    for (const std::string* part : {&apiVersion, &kind, &ns, &name, &uid})
      appendKeyPart(key, *part);
    return key;
  }
  std::string describe() const { return kind + " " + (ns.empty() ? name : ns + "/" + name); }
};

struct EventSeries {
  EventOccurrence occurrence;
  std::string name;
  std::string eventNamespace;
  int64_t eventTime = 0;
  int64_t lastObserved = 0;
  int64_t lastWrite = 0;  // when the server last got a count
  int64_t count = 1;
  int64_t written = 0;  // the count the server has
  bool sending = false;
  bool failed = false;  // the server refused it: no more writes
  bool dirty() const { return !failed && count > written; }
};

}  // namespace detail

namespace {

using detail::EventOccurrence;
using detail::EventSeries;

json reference(const EventOccurrence& o) {
  json out = {{"apiVersion", o.apiVersion}, {"kind", o.kind}, {"name", o.name}};
  if (!o.ns.empty()) out["namespace"] = o.ns;
  if (!o.uid.empty()) out["uid"] = o.uid;
  return out;
}

json seriesJson(int64_t count, int64_t lastObserved) {
  return {{"count", count}, {"lastObservedTime", formatMicroTime(lastObserved)}};
}

// The Event object; with a series when it is created with a count (again, after a 404).
json eventBody(const EventSeries& series, const std::string& controller,
               const std::string& instance, int64_t count, int64_t lastObserved) {
  const EventOccurrence& o = series.occurrence;
  json event = {{"apiVersion", kEvent.apiVersion},
                {"kind", kEvent.kind},
                {"metadata", {{"name", series.name}, {"namespace", series.eventNamespace}}},
                {"eventTime", formatMicroTime(series.eventTime)},
                {"reportingController", controller},
                {"reportingInstance", instance},
                {"action", o.action},
                {"reason", o.reason},
                {"type", typeName(o.type)},
                {"note", o.note},
                {"regarding", reference(o)}};
  if (count >= 2) event["series"] = seriesJson(count, lastObserved);
  return event;
}

std::string invalidField(const EventOccurrence& o, const std::string& controller,
                         const std::string& instance) {
  if (!isQualifiedName(controller)) {
    return "reportingController \"" + controller +
           "\" is not a qualified name (example.com/my-operator)";
  }
  if (instance.empty()) return "reportingInstance is empty";
  if (o.reason.empty() || o.reason.size() > kMaxReasonBytes) return "reason must be 1..128 bytes";
  if (o.action.empty() || o.action.size() > kMaxActionBytes) return "action must be 1..128 bytes";
  if (o.apiVersion.empty() || o.kind.empty() || o.name.empty()) {
    return "the regarding object needs apiVersion, kind and a name";
  }
  return "";
}

EventRecorderOptions withDefaults(EventRecorderOptions options) {
  auto& instance = options.reportingInstance;
  instance = validUtf8Within(instance.empty() ? options.reportingController : instance,
                             kMaxReportingInstanceBytes);
  options.reportingController = validUtf8Within(options.reportingController, kMaxNameBytes + 1);
  return options;
}

}  // namespace

EventRecorder::EventRecorder(EventRecorderOptions options, const Clock& clock)
    : options_(withDefaults(std::move(options))), clock_(clock) {}

EventRecorder::~EventRecorder() = default;

size_t EventRecorder::tracked() const { return tracked_.size(); }

Task<EventRecorded> EventRecorder::event(Client& client, const json& regarding, EventType type,
                                         std::string reason, std::string action, std::string note) {
  // Read now: the Task is lazy and `regarding` may be gone when it runs.
  Occurrence occurrence{getString(regarding, {"apiVersion"}).value_or(""),
                        getString(regarding, {"kind"}).value_or(""),
                        namespaceOf(regarding),
                        nameOf(regarding),
                        uidOf(regarding),
                        type,
                        validUtf8Within(reason, kMaxReasonBytes + 1),
                        validUtf8Within(action, kMaxActionBytes + 1),
                        validUtf8Within(note, kMaxNoteBytes)};
  return record(client, std::move(occurrence));
}

Task<EventRecorded> EventRecorder::record(Client& client, Occurrence occurrence) {
  using What = EventRecorded::What;
  if (auto invalid =
          invalidField(occurrence, options_.reportingController, options_.reportingInstance);
      !invalid.empty()) {
    co_return EventRecorded{What::kInvalid,
                            "Event about " + occurrence.describe() + ": " + invalid};
  }
  const int64_t now = clock_.nowUnixNanos();
  const std::string key = occurrence.key();
  sweep(now);
  if (auto it = tracked_.find(key); it != tracked_.end()) {
    SeriesPtr series = it->second;
    if (!series->failed && now - series->lastObserved < options_.seriesWindowMs * kNanosPerMs) {
      series->count++;
      series->lastObserved = now;
      // The first repeat is written at once, as client-go does; later ones once per period.
      const bool due = !series->sending && series->written > 0 &&
                       ((series->written == 1 && series->count == 2) ||
                        now - series->lastWrite >= options_.flushPeriodMs * kNanosPerMs);
      EventRecorded recorded{What::kCounted, ""};
      if (due) recorded = co_await writeBack(client, series);
      co_await flushDue(client, options_.maxFlushPerEvent, /*dueOnly=*/true);
      co_return recorded;
    }
    if (series->dirty() && !series->sending) {
      // Its window is over: the old Event gets its last count before a new one starts. The map
      // may change while that write waits, so the occurrence is looked at afresh after it.
      co_await writeBack(client, series);
      co_return co_await record(client, std::move(occurrence));
    }
    tracked_.erase(it);  // a write still in flight keeps its series alive
  }
  if (tracked_.size() >= options_.maxTracked && !makeRoom(now)) {
    co_return EventRecorded{What::kDropped, "Event about " + occurrence.describe() +
                                                ": every tracked series has a write in flight"};
  }
  if (!allowNew(occurrence.budget(), now)) {
    co_return EventRecorded{What::kDropped, "Event about " + occurrence.describe() +
                                                ": the spam filter's budget for it is spent"};
  }
  auto series = std::make_shared<detail::EventSeries>();
  lastUnique_ = std::max(now, lastUnique_ + 1);
  series->name = eventName(occurrence.name, lastUnique_);
  series->eventNamespace = occurrence.ns.empty() ? "default" : occurrence.ns;
  series->eventTime = now;
  series->lastObserved = now;
  series->occurrence = std::move(occurrence);
  tracked_[key] = series;
  EventRecorded recorded = co_await create(client, series);
  if (recorded.failed()) {
    // Forgotten, so the next occurrence tries again (within the spam filter's budget).
    if (auto it = tracked_.find(key); it != tracked_.end() && it->second == series) {
      tracked_.erase(it);
    }
  }
  co_await flushDue(client, options_.maxFlushPerEvent, /*dueOnly=*/true);
  co_return recorded;
}

Task<EventRecorded> EventRecorder::create(Client& client, SeriesPtr series) {
  const int64_t count = series->count;
  const int64_t lastObserved = series->lastObserved;
  series->sending = true;
  Response created = co_await client.create(eventBody(
      *series, options_.reportingController, options_.reportingInstance, count, lastObserved));
  series->sending = false;
  // 409 on a create is AlreadyExists: a retried POST whose first attempt got through.
  if (created.ok() || created.conflict()) {
    series->written = std::max(series->written, count);
    series->lastWrite = clock_.nowUnixNanos();
    co_return EventRecorded{EventRecorded::What::kCreated, ""};
  }
  series->failed = true;
  co_return EventRecorded{EventRecorded::What::kFailed, "creating Event " + series->eventNamespace +
                                                            "/" + series->name + " about " +
                                                            series->occurrence.describe() + ": " +
                                                            created.errorMessage()};
}

Task<EventRecorded> EventRecorder::writeBack(Client& client, SeriesPtr series) {
  const int64_t count = series->count;
  const int64_t lastObserved = series->lastObserved;
  series->sending = true;
  Response patched = co_await client.patch(kEvent, series->eventNamespace, series->name,
                                           {{"series", seriesJson(count, lastObserved)}});
  series->sending = false;
  if (patched.notFound()) {
    // Deleted meanwhile (Events expire after an hour): created again with its count.
    series->written = 0;
    co_return co_await create(client, series);
  }
  if (patched.ok()) {
    series->written = std::max(series->written, count);
    series->lastWrite = clock_.nowUnixNanos();
    co_return EventRecorded{EventRecorded::What::kSeriesWritten, ""};
  }
  series->failed = true;
  co_return EventRecorded{EventRecorded::What::kFailed,
                          "writing the series of Event " + series->eventNamespace + "/" +
                              series->name + ": " + patched.errorMessage()};
}

Task<size_t> EventRecorder::flush(Client& client) {
  return flushDue(client, std::numeric_limits<size_t>::max(), /*dueOnly=*/false);
}

Task<size_t> EventRecorder::flushDue(Client& client, size_t max, bool dueOnly) {
  const int64_t now = clock_.nowUnixNanos();
  std::vector<SeriesPtr> due;  // copied first: the map may change while writes wait
  for (const auto& [key, series] : tracked_) {
    if (due.size() >= max) break;
    if (!series->dirty() || series->sending) continue;
    if (dueOnly && now - series->lastWrite < options_.flushPeriodMs * kNanosPerMs) continue;
    due.push_back(series);
  }
  size_t failures = 0;
  for (const auto& series : due) {
    if (!series->dirty() || series->sending) continue;  // written by someone else meanwhile
    EventRecorded written = co_await writeBack(client, series);
    if (written.failed()) {
      ++failures;
      log::warn(written.error);
    }
  }
  sweep(clock_.nowUnixNanos());
  co_return failures;
}

void EventRecorder::sweep(int64_t now) {
  std::erase_if(tracked_, [&](const auto& entry) {
    const detail::EventSeries& series = *entry.second;
    return now - series.lastObserved >= options_.seriesWindowMs * kNanosPerMs && !series.sending &&
           !series.dirty();
  });
}

bool EventRecorder::makeRoom(int64_t now) {
  sweep(now);
  if (tracked_.size() < options_.maxTracked) return true;
  auto oldest = tracked_.end();
  for (auto it = tracked_.begin(); it != tracked_.end(); ++it) {
    if (it->second->sending) continue;
    if (oldest == tracked_.end() || it->second->lastObserved < oldest->second->lastObserved) {
      oldest = it;
    }
  }
  if (oldest == tracked_.end()) return false;
  tracked_.erase(oldest);  // its series ends early: its next occurrence makes a new Event
  return true;
}

bool EventRecorder::allowNew(const std::string& budget, int64_t now) {
  const double burst = std::max(1, options_.spamBurst);
  const double refillNanos = static_cast<double>(std::max<int64_t>(1, options_.spamRefillMs)) *
                             static_cast<double>(kNanosPerMs);
  auto tokensAt = [&](const Bucket& bucket) {
    if (now <= bucket.counted) return bucket.tokens;
    return std::min(burst, bucket.tokens + static_cast<double>(now - bucket.counted) / refillNanos);
  };
  auto it = budgets_.find(budget);
  if (it == budgets_.end()) {
    if (budgets_.size() >= std::max<size_t>(1, options_.maxSpamKeys)) {
      // A full bucket is as good as absent; else the one used longest ago goes.
      auto victim = budgets_.begin();
      for (auto b = budgets_.begin(); b != budgets_.end(); ++b) {
        if (tokensAt(b->second) >= burst) {
          victim = b;
          break;
        }
        if (b->second.used < victim->second.used) victim = b;
      }
      budgets_.erase(victim);
    }
    it = budgets_.emplace(budget, Bucket{burst, now, now}).first;
  }
  Bucket& bucket = it->second;
  bucket.tokens = tokensAt(bucket);
  bucket.counted = std::max(bucket.counted, now);
  bucket.used = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

}  // namespace wop::sdk
