#include "server/lease_lock.h"

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "common/json_depth.h"
#include "common/limits.h"
#include "kube/exec_credential.h"

namespace wop::server {

namespace {

using Json = nlohmann::json;
using common::Status;
using common::StatusCode;

// The API declares leaseDurationSeconds and leaseTransitions int32; beyond, a duration added
// to a time point could overflow.
constexpr int64_t kMaxLeaseCount = INT32_MAX;

Status invalid(std::string message) {
  return Status(StatusCode::kInvalidArgument, "malformed Lease: " + std::move(message));
}

// An optional integer field: absent or null reads as 0; another type or a negative is an error.
Status readCount(const Json& spec, const char* key, int64_t& out) {
  auto it = spec.find(key);
  if (it == spec.end() || it->is_null()) return Status::ok();
  if (!it->is_number_integer()) return invalid(std::string("spec.") + key + " is not an integer");
  const int64_t value = it->get<int64_t>();
  if (value < 0) return invalid(std::string("spec.") + key + " is negative");
  if (value > kMaxLeaseCount) return invalid(std::string("spec.") + key + " is out of range");
  out = value;
  return Status::ok();
}

Status readTime(const Json& spec, const char* key, std::optional<common::WallTime>& out) {
  auto it = spec.find(key);
  if (it == spec.end() || it->is_null()) return Status::ok();
  if (!it->is_string()) return invalid(std::string("spec.") + key + " is not a string");
  out = kube::parseRfc3339(it->get_ref<const std::string&>());
  if (!out) return invalid(std::string("spec.") + key + " is not an RFC 3339 time");
  return Status::ok();
}

Json specOf(const LeaseRecord& record) {
  Json spec = Json::object();
  spec["holderIdentity"] = record.holderIdentity;
  spec["leaseDurationSeconds"] = record.leaseDurationSeconds;
  spec["leaseTransitions"] = record.leaseTransitions;
  spec["acquireTime"] = record.acquireTime ? Json(formatMicroTime(*record.acquireTime)) : Json();
  spec["renewTime"] = record.renewTime ? Json(formatMicroTime(*record.renewTime)) : Json();
  return spec;
}

}  // namespace

const kube::ResourceInfo& leaseResource() {
  static const kube::ResourceInfo kLeases{{"coordination.k8s.io", "v1", "leases"}, "Lease", true};
  return kLeases;
}

std::string formatMicroTime(common::WallTime time) {
  using namespace std::chrono;
  const auto micros = floor<microseconds>(time);
  const auto day = floor<days>(micros);
  const year_month_day date(day);
  const hh_mm_ss clock(micros - day);
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02lldZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<int>(clock.hours().count()),
                static_cast<int>(clock.minutes().count()),
                static_cast<long long>(clock.seconds().count()));
  // Insert the fraction before the "Z".
  std::string out(text);
  char fraction[24];
  std::snprintf(fraction, sizeof fraction, ".%06lld",
                static_cast<long long>(clock.subseconds().count()));
  out.insert(out.size() - 1, fraction);
  return out;
}

common::Result<Lease> parseLease(std::string_view json) {
  // The object is copied and written back, both recursive in nlohmann: depth is bounded first.
  if (!common::jsonDepthWithin(json, limits::kMaxGuestJsonDepth)) {
    return invalid("nested deeper than " + std::to_string(limits::kMaxGuestJsonDepth));
  }
  Json object = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return invalid("the body is not JSON");
  if (!object.is_object()) return invalid("the body is not a JSON object");
  Lease lease;
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return invalid("no metadata");
  auto version = metadata->find("resourceVersion");
  if (version == metadata->end() || !version->is_string() ||
      version->get_ref<const std::string&>().empty()) {
    return invalid("no metadata.resourceVersion");
  }
  if (version->get_ref<const std::string&>().size() > limits::kMaxResourceVersionBytes) {
    return invalid("metadata.resourceVersion is too long");
  }
  lease.resourceVersion = version->get<std::string>();

  auto spec = object.find("spec");
  if (spec != object.end() && !spec->is_null()) {
    if (!spec->is_object()) return invalid("spec is not an object");
    auto holder = spec->find("holderIdentity");
    if (holder != spec->end() && !holder->is_null()) {
      if (!holder->is_string()) return invalid("spec.holderIdentity is not a string");
      lease.record.holderIdentity = holder->get<std::string>();
    }
    for (Status status :
         {readCount(*spec, "leaseDurationSeconds", lease.record.leaseDurationSeconds),
          readCount(*spec, "leaseTransitions", lease.record.leaseTransitions),
          readTime(*spec, "acquireTime", lease.record.acquireTime),
          readTime(*spec, "renewTime", lease.record.renewTime)}) {
      if (!status.isOk()) return status;
    }
  }
  lease.object = std::move(object);
  return lease;
}

std::string newLeaseBody(const std::string& ns, const std::string& name,
                         const LeaseRecord& record) {
  Json object = {{"apiVersion", "coordination.k8s.io/v1"},
                 {"kind", "Lease"},
                 {"metadata", {{"name", name}, {"namespace", ns}}}};
  object["spec"] = specOf(record);
  return object.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string updatedLeaseBody(const Lease& lease, const LeaseRecord& record) {
  Json object = lease.object;
  Json& spec = object["spec"];
  if (!spec.is_object()) spec = Json::object();
  spec.update(specOf(record));
  object["metadata"]["resourceVersion"] = lease.resourceVersion;
  return object.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace wop::server
