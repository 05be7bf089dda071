#include "server/event_object.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/limits.h"
#include "common/utf8.h"
#include "kube/api_names.h"
#include "server/lease_lock.h"

namespace wop::server {

namespace {

using Json = nlohmann::json;
using common::Status;
using common::StatusCode;

Status invalid(std::string message) {
  return Status(StatusCode::kInvalidArgument, "invalid Event: " + std::move(message));
}

bool isAlphanumeric(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool isCamelCase(std::string_view text) {
  if (text.empty() || text[0] < 'A' || text[0] > 'Z') return false;
  for (char c : text) {
    if (!isAlphanumeric(c)) return false;
  }
  return true;
}

Json referenceJson(const ObjectReference& ref) {
  Json out = {{"kind", ref.kind}, {"apiVersion", ref.apiVersion}, {"name", ref.name}};
  if (!ref.ns.empty()) out["namespace"] = ref.ns;
  if (!ref.uid.empty()) out["uid"] = ref.uid;
  return out;
}

Json seriesJson(const EventSeries& series) {
  return {{"count", series.count}, {"lastObservedTime", formatMicroTime(series.lastObservedTime)}};
}

// text made valid UTF-8 and cut to at most max bytes at a character boundary.
std::string validUtf8Within(std::string_view text, size_t max) {
  return std::string(common::utf8Prefix(common::toValidUtf8(text), max));
}

std::string dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

const char* eventTypeName(EventType type) {
  return type == EventType::kWarning ? "Warning" : "Normal";
}

const kube::ResourceInfo& eventResource() {
  static const kube::ResourceInfo kEvents{{"events.k8s.io", "v1", "events"}, "Event", true};
  return kEvents;
}

Status validateEventFields(const EventFields& fields) {
  if (!isCamelCase(fields.reason) || fields.reason.size() > limits::kMaxEventReasonBytes) {
    return invalid("reason \"" + fields.reason + "\" is not CamelCase of at most " +
                   std::to_string(limits::kMaxEventReasonBytes) + " bytes");
  }
  bool actionOk = !fields.action.empty() && fields.action.size() <= limits::kMaxEventActionBytes;
  for (char c : fields.action) actionOk = actionOk && isAlphanumeric(c);
  if (!actionOk) return invalid("action \"" + fields.action + "\" is not [A-Za-z0-9]+");
  const ObjectReference& ref = fields.regarding;
  if (auto kind = kube::checkKind(ref.kind); !kind.isOk()) {
    return invalid("regarding.kind: " + kind.message());
  }
  if (auto version = kube::checkApiVersion(ref.apiVersion); !version.isOk()) {
    return invalid("regarding.apiVersion: " + version.message());
  }
  if (auto ns = kube::checkNamespace(ref.ns); !ns.isOk()) {
    return invalid("regarding.namespace: " + ns.message());
  }
  if (!kube::isDns1123Subdomain(ref.name)) {
    return invalid("regarding.name \"" + ref.name + "\" is not a DNS subdomain");
  }
  if (ref.uid.size() > limits::kMaxResourceVersionBytes) return invalid("regarding.uid too long");
  return Status::ok();
}

std::string boundedNote(std::string_view note) {
  return validUtf8Within(note, limits::kMaxEventNoteBytes);
}

std::string eventNamespace(const ObjectReference& regarding) {
  return regarding.ns.empty() ? "default" : regarding.ns;
}

std::string eventName(std::string_view regardingName, uint64_t unique) {
  char hex[20];
  std::snprintf(hex, sizeof hex, ".%llx", static_cast<unsigned long long>(unique));
  const size_t room = limits::kMaxDnsSubdomainBytes - std::string_view(hex).size();
  std::string name(regardingName.substr(0, room));
  // A cut may leave a label ending in '-' or '.': not a DNS subdomain.
  while (!name.empty() && (name.back() == '-' || name.back() == '.')) name.pop_back();
  if (name.empty()) name = "event";
  return name + hex;
}

std::string reportingInstanceFrom(std::string_view hostName) {
  if (hostName.empty()) return "unknown";
  return validUtf8Within(hostName, limits::kMaxEventReportingInstanceBytes);
}

std::string newEventBody(const EventFields& fields, const EventReporter& reporter,
                         const std::string& name, common::WallTime eventTime,
                         const std::optional<EventSeries>& series) {
  Json object = {{"apiVersion", "events.k8s.io/v1"},
                 {"kind", "Event"},
                 {"metadata", {{"name", name}, {"namespace", eventNamespace(fields.regarding)}}},
                 {"eventTime", formatMicroTime(eventTime)},
                 {"reportingController", reporter.controller},
                 {"reportingInstance", reporter.instance},
                 {"action", fields.action},
                 {"reason", fields.reason},
                 {"type", eventTypeName(fields.type)},
                 {"note", boundedNote(fields.note)},
                 {"regarding", referenceJson(fields.regarding)}};
  if (series) object["series"] = seriesJson(*series);
  return dump(object);
}

std::string seriesPatchBody(const EventSeries& series) {
  return dump(Json{{"series", seriesJson(series)}});
}

}  // namespace wop::server
