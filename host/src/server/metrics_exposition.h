// The host's /metrics page: controller-runtime's and client-go's metric names and labels for
// each operator (its name as `controller`, and as the work queue's `name`), so dashboards and
// alerts written for Go operators work unchanged; then ours (wasm_operator_*): memory, swapping,
// prediction, traps, and the host's informers and artifact cache. docs/operations.md lists
// them all.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kube/client.h"
#include "runtime/operator_host.h"
#include "server/event_recorder.h"
#include "server/leader_election.h"

namespace wop::server {

// The Leases this replica campaigns for (none without leader election).
using LeaseStatuses = std::function<std::vector<LeaseStatus>()>;

// What the page shows beside the host's own figures, when the process has it.
struct ExtraMetrics {
  LeaseStatuses leases;                   // under leader election or shards
  const EventCounters* events = nullptr;  // when lifecycle Events are sent
};

// The whole page in Prometheus' text format. Reads atomics and takes the host's and each
// operator's stats locks briefly; lists the artifact folder once. events: the lifecycle Events'
// counters, when Events are sent.
std::string renderMetrics(runtime::OperatorHost& host, const kube::Client& client,
                          uint64_t processResidentBytes, const ExtraMetrics& extra = {});

// client-go's `host` label: host[:port] of the API server URL.
std::string apiServerHostLabel(const std::string& serverUrl);

}  // namespace wop::server
