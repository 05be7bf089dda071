#include "server/metrics_exposition.h"

#include <algorithm>
#include <atomic>
#include <utility>

#include "server/prometheus_text.h"

namespace wop::server {
namespace {

using runtime::OperatorReport;

double load(const std::atomic<uint64_t>& counter) {
  return static_cast<double>(counter.load(std::memory_order_relaxed));
}
double load(const std::atomic<int64_t>& gauge) {
  return static_cast<double>(std::max<int64_t>(0, gauge.load(std::memory_order_relaxed)));
}

Labels controllerLabel(const OperatorReport& r) { return {{"controller", r.stats.name}}; }
// client-go's workqueue metrics name the queue; controller-runtime adds the controller.
Labels queueLabels(const OperatorReport& r) {
  return {{"controller", r.stats.name}, {"name", r.stats.name}};
}
using LabelsOf = Labels (*)(const OperatorReport&);

// One family with a sample per operator.
template <typename Value>
void perOperator(PrometheusText& out, const std::vector<OperatorReport>& reports,
                 std::string_view name, std::string_view type, std::string_view help, Value value,
                 LabelsOf labels = controllerLabel) {
  out.family(name, type, help);
  for (const auto& r : reports) out.sample(name, labels(r), value(r));
}

// One histogram family with a histogram per operator.
template <typename HistogramOf>
void perOperatorHistogram(PrometheusText& out, const std::vector<OperatorReport>& reports,
                          std::string_view name, std::string_view help, HistogramOf histogram,
                          LabelsOf labels = controllerLabel) {
  out.family(name, "histogram", help);
  for (const auto& r : reports) out.histogram(name, labels(r), histogram(r).snapshot());
}

void reconcileMetrics(PrometheusText& out, const std::vector<OperatorReport>& reports) {
  using Counter = std::atomic<uint64_t> runtime::OperatorMetrics::*;
  static constexpr std::pair<std::string_view, Counter> kResults[] = {
      {"error", &runtime::OperatorMetrics::reconcileError},
      {"requeue", &runtime::OperatorMetrics::reconcileRequeue},
      {"requeue_after", &runtime::OperatorMetrics::reconcileRequeueAfter},
      {"success", &runtime::OperatorMetrics::reconcileSuccess}};
  out.family("controller_runtime_reconcile_total", "counter",
             "Total number of reconciliations per controller");
  for (const auto& r : reports) {
    for (const auto& [result, counter] : kResults) {
      out.sample("controller_runtime_reconcile_total",
                 {{"controller", r.stats.name}, {"result", result}}, load((*r.metrics).*counter));
    }
  }
  perOperator(out, reports, "controller_runtime_reconcile_errors_total", "counter",
              "Total number of reconciliation errors per controller",
              [](const OperatorReport& r) { return load(r.metrics->reconcileError); });
  perOperator(out, reports, "controller_runtime_terminal_reconcile_errors_total", "counter",
              "Total number of terminal reconciliation errors per controller",
              [](const OperatorReport& r) { return load(r.metrics->reconcileTerminalError); });
  perOperatorHistogram(
      out, reports, "controller_runtime_reconcile_time_seconds",
      "Length of time per reconciliation per controller",
      [](const OperatorReport& r) -> auto& { return r.metrics->reconcileSeconds; });
  perOperator(out, reports, "controller_runtime_active_workers", "gauge",
              "Number of currently used workers per controller",
              [](const OperatorReport& r) { return load(r.metrics->activeReconciles); });
}

void workQueueMetrics(PrometheusText& out, const std::vector<OperatorReport>& reports) {
  perOperator(
      out, reports, "workqueue_depth", "gauge", "Current depth of workqueue",
      [](const OperatorReport& r) { return load(r.metrics->queue.depth); }, queueLabels);
  perOperator(
      out, reports, "workqueue_adds_total", "counter", "Total number of adds handled by workqueue",
      [](const OperatorReport& r) { return load(r.metrics->queue.adds); }, queueLabels);
  perOperatorHistogram(
      out, reports, "workqueue_queue_duration_seconds",
      "How long in seconds an item stays in workqueue before being requested",
      [](const OperatorReport& r) -> auto& { return r.metrics->queue.queueSeconds; }, queueLabels);
  perOperatorHistogram(
      out, reports, "workqueue_work_duration_seconds",
      "How long in seconds processing an item from workqueue takes",
      [](const OperatorReport& r) -> auto& { return r.metrics->queue.workSeconds; }, queueLabels);
  perOperator(
      out, reports, "workqueue_retries_total", "counter",
      "Total number of retries handled by workqueue",
      [](const OperatorReport& r) { return load(r.metrics->queue.retries); }, queueLabels);
}

void restClientMetrics(PrometheusText& out, const kube::Client& client) {
  const std::string host = apiServerHostLabel(client.config().server);
  out.family("rest_client_requests_total", "counter",
             "Number of HTTP requests, partitioned by status code, method, and host");
  for (const auto& [key, count] : client.counters().responses.snapshot()) {
    const auto& [status, method] = key;
    const std::string code = status == 0 ? "<error>" : std::to_string(status);
    out.sample("rest_client_requests_total", {{"code", code}, {"host", host}, {"method", method}},
               static_cast<double>(count));
  }
}

void operatorMetrics(PrometheusText& out, const std::vector<OperatorReport>& reports) {
  // Figures the stats already count (runtime::OperatorStats and its SwapStats).
  struct StatsFamily {
    std::string_view name;
    std::string_view type;
    std::string_view help;
    uint64_t runtime::OperatorStats::* field;
  };
  static constexpr StatsFamily kStatsFamilies[] = {
      {"wasm_operator_resident_bytes", "gauge",
       "Linear memory of the operator's live instance (0 while swapped out)",
       &runtime::OperatorStats::memoryBytes},
      {"wasm_operator_swap_outs_total", "counter",
       "Swap-outs of the operator's instance to its snapshot", &runtime::OperatorStats::swapOuts},
      {"wasm_operator_restores_total", "counter",
       "Restores of the operator from its snapshot, prefetches included",
       &runtime::OperatorStats::restores},
      {"wasm_operator_prefetches_total", "counter", "Restores ahead of a predicted change",
       &runtime::OperatorStats::prefetches},
      {"wasm_operator_prefetches_wasted_total", "counter",
       "Prefetches swapped out again before any change came",
       &runtime::OperatorStats::prefetchesWasted},
      {"wasm_operator_prefetches_skipped_total", "counter",
       "Predicted changes not prefetched: no room in the host's memory budget",
       &runtime::OperatorStats::prefetchesSkipped},
      {"wasm_operator_prediction_hits_total", "counter",
       "Prefetches that a change then found resident", &runtime::OperatorStats::prefetchHits},
      {"wasm_operator_prediction_misses_total", "counter",
       "Changes that found the operator swapped out (restored on their path)",
       &runtime::OperatorStats::wakesSwapped},
      {"wasm_operator_snapshot_faults_total", "counter",
       "Unusable snapshots (the operator restarted on a fresh instance)",
       &runtime::OperatorStats::snapshotFaults},
      {"wasm_operator_restarts_total", "counter",
       "Restarts of the operator on a fresh instance after a failure",
       &runtime::OperatorStats::restarts},
      {"wasm_operator_queued_keys", "gauge",
       "Keys queued (ready or delayed) in the operator's work queues",
       &runtime::OperatorStats::queuedKeys},
  };
  for (const auto& family : kStatsFamilies) {
    perOperator(out, reports, family.name, family.type, family.help,
                [field = family.field](const OperatorReport& r) {
                  return static_cast<double>(r.stats.*field);
                });
  }
  perOperator(out, reports, "wasm_operator_swapped", "gauge",
              "1 while the operator is swapped out to disk, else 0",
              [](const OperatorReport& r) { return r.stats.swappedOut ? 1.0 : 0.0; });
  perOperator(out, reports, "wasm_operator_traps_total", "counter",
              "Entries that trapped, timed out or broke the ABI contract",
              [](const OperatorReport& r) { return load(r.metrics->traps); });
  perOperatorHistogram(out, reports, "wasm_operator_swap_out_duration_seconds",
                       "Time to write the operator's snapshot and drop its instance",
                       [](const OperatorReport& r) -> auto& { return r.metrics->swapOutSeconds; });
  perOperatorHistogram(out, reports, "wasm_operator_restore_duration_seconds",
                       "Time to map the operator's snapshot and instantiate it",
                       [](const OperatorReport& r) -> auto& { return r.metrics->restoreSeconds; });
}

void hostMetrics(PrometheusText& out, runtime::OperatorHost& host, size_t operators,
                 uint64_t processResidentBytes) {
  const auto cache = host.informers().cacheTotals();
  const auto activity = host.informers().activityTotals();
  auto gauge = [&](std::string_view name, std::string_view help, double value) {
    out.family(name, "gauge", help);
    out.sample(name, {}, value);
  };
  auto counter = [&](std::string_view name, std::string_view help, double value) {
    out.family(name, "counter", help);
    out.sample(name, {}, value);
  };
  gauge("wasm_operator_operators", "Operators loaded in this host", static_cast<double>(operators));
  gauge("wasm_operator_informers", "Shared informers running (one per resource and namespace)",
        static_cast<double>(host.informers().activeInformers()));
  gauge("wasm_operator_informer_cache_objects", "Objects in the informers' caches",
        static_cast<double>(cache.objects));
  gauge("wasm_operator_informer_cache_bytes", "Bytes of the objects in the informers' caches",
        static_cast<double>(cache.objectBytes));
  gauge("wasm_operator_informer_index_bytes",
        "Bytes of the field indexes operators declared on the informers' caches",
        static_cast<double>(cache.indexBytes));
  counter("wasm_operator_informer_lists_total", "Complete LISTs by the informers",
          static_cast<double>(activity.lists));
  // Every LIST is followed by one watch; any other watch resumed a watch that ended.
  counter("wasm_operator_watch_restarts_total",
          "Watches started again without a relist (reconnects, server timeouts)",
          static_cast<double>(activity.watches > activity.lists ? activity.watches - activity.lists
                                                                : 0));
  counter("wasm_operator_relists_total", "Relists after 410 Gone (resourceVersion too old)",
          static_cast<double>(activity.relistsAfterGone));
  counter("wasm_operator_informer_errors_total", "Failed lists and watches (each retried)",
          static_cast<double>(activity.errors));
  gauge("wasm_operator_artifact_cache_bytes", "Bytes of compiled modules in the artifact cache",
        static_cast<double>(host.artifactCacheBytes()));
  gauge("process_resident_memory_bytes", "Resident memory size in bytes",
        static_cast<double>(processResidentBytes));
}

void eventMetrics(PrometheusText& out, const EventCounters& events) {
  static constexpr std::pair<std::string_view, std::atomic<uint64_t> EventCounters::*> kReasons[] =
      {{"api_error", &EventCounters::droppedError},
       {"invalid", &EventCounters::droppedInvalid},
       {"queue_full", &EventCounters::droppedQueue},
       {"spam_filter", &EventCounters::droppedSpam}};
  out.family("wasm_operator_events_dropped_total", "counter",
             "Lifecycle Event occurrences not written, by why");
  for (const auto& [reason, counter] : kReasons) {
    out.sample("wasm_operator_events_dropped_total", {{"reason", reason}}, load(events.*counter));
  }
}

}  // namespace

std::string apiServerHostLabel(const std::string& serverUrl) {
  std::string_view rest = serverUrl;
  if (auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    rest.remove_prefix(scheme + 3);
  }
  return std::string(rest.substr(0, rest.find('/')));
}

// client-go's leader election gauge, as controller-runtime registers it: 1 while leading.
void leaseMetrics(PrometheusText& out, const LeaseStatuses& leases) {
  if (!leases) return;
  out.family("leader_election_master_status", "gauge",
             "Gauge of if the reporting system is master of the relevant lease, 0 indicates "
             "backup, 1 indicates master. 'name' is the string used to identify the lease.");
  for (const auto& lease : leases()) {
    out.sample("leader_election_master_status", {{"name", lease.name}}, lease.leading ? 1 : 0);
  }
}

std::string renderMetrics(runtime::OperatorHost& host, const kube::Client& client,
                          uint64_t processResidentBytes, const ExtraMetrics& extra) {
  const auto reports = host.reports();
  PrometheusText out;
  reconcileMetrics(out, reports);
  workQueueMetrics(out, reports);
  restClientMetrics(out, client);
  operatorMetrics(out, reports);
  hostMetrics(out, host, reports.size(), processResidentBytes);
  leaseMetrics(out, extra.leases);
  if (extra.events) eventMetrics(out, *extra.events);
  return out.take();
}

}  // namespace wop::server
