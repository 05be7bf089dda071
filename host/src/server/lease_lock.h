// The coordination.k8s.io/v1 Lease as leader election reads and writes it: the record in its
// spec, MicroTime text, and the request bodies. Pure functions, no I/O (the elector sends what
// these build), so every decoding rule is tested without a server.
//
// A Lease comes from the network: parseLease never throws and never trusts a field's type.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/status.h"
#include "kube/request.h"

namespace wop::server {

// The Lease's spec as client-go's LeaderElectionRecord sees it. An empty holderIdentity means
// nobody holds the lease (it was released): any candidate may take it at once.
struct LeaseRecord {
  std::string holderIdentity;
  int64_t leaseDurationSeconds = 0;
  std::optional<common::WallTime> acquireTime;
  std::optional<common::WallTime> renewTime;
  int64_t leaseTransitions = 0;

  bool operator==(const LeaseRecord&) const = default;
};

// A Lease read from the server: its record, and the whole object so that an update writes back
// every field it does not own (labels, owner references, newer spec fields) with the
// resourceVersion it was read at (optimistic concurrency: a stale one gets 409 Conflict).
struct Lease {
  LeaseRecord record;
  std::string resourceVersion;
  nlohmann::json object;
};

// coordination.k8s.io/v1 leases, namespaced.
const kube::ResourceInfo& leaseResource();

// "2026-12-03T01:02:03.123456Z": RFC 3339 in UTC with exactly six fractional digits, as the API
// server writes metav1.MicroTime. Sub-microsecond parts are truncated.
std::string formatMicroTime(common::WallTime time);
// Reading one is kube::parseRfc3339 (kube/exec_credential.h).

// Decodes a Lease from the server. A missing spec (legal: the API makes it optional) reads as
// an empty record, as client-go reads it. Errors (kInvalidArgument) name what is wrong: not
// JSON or nested too deep, no metadata.resourceVersion (or a too long one), a spec or field of
// the wrong type, a time that is not RFC 3339, a count that is negative or beyond int32.
common::Result<Lease> parseLease(std::string_view json);

// The body of a POST that creates the Lease namespace/name holding record.
std::string newLeaseBody(const std::string& ns, const std::string& name, const LeaseRecord& record);
// The body of a PUT that writes record into lease (at lease.resourceVersion), keeping every
// other field of the object.
std::string updatedLeaseBody(const Lease& lease, const LeaseRecord& record);

}  // namespace wop::server
