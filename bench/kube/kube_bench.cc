// Benchmarks of the Kubernetes client and cache (run by bench/kube/run.py, `make bench`):
//   decode: a 10,000-object LIST (Pods shaped like a real cluster's, managedFields included)
//           parsed and decoded into cache objects, as the informer does on a relist;
//   memory: bytes the store holds per object, against the object's JSON size, both by the
//           store's own accounting and by the process's resident memory;
//   events: watch events per second through the informer's path (stream framing, decode,
//           store update) offline, and end to end from the real API server (--kubeconfig).
// Prints one JSON object on stdout.
#include <malloc.h>
#include <simdjson.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cache/informer.h"
#include "cache/store.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "kube/watch_decoder.h"

namespace {

using Clock = std::chrono::steady_clock;
using wop::cache::DecodeOptions;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A Pod as a Deployment's ReplicaSet creates it, after scheduling, with managedFields.
nlohmann::json makePod(int i) {
  const std::string name = "web-7d4b9c8f6d-" + std::to_string(100000 + i);
  nlohmann::json managed = nlohmann::json::array();
  for (const char* manager : {"kube-controller-manager", "kube-scheduler", "kubelet"}) {
    managed.push_back(
        {{"manager", manager},
         {"operation", "Update"},
         {"apiVersion", "v1"},
         {"time", "2026-11-29T10:00:00Z"},
         {"fieldsType", "FieldsV1"},
         {"fieldsV1",
          {{"f:metadata", {{"f:labels", {{"f:app", {}}, {"f:pod-template-hash", {}}}}}},
           {"f:spec",
            {{"f:containers", {{"k:{\"name\":\"web\"}", {{"f:image", {}}, {"f:resources", {}}}}}}}},
           {"f:status", {{"f:conditions", {}}, {"f:phase", {}}}}}}});
  }
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", name},
        {"namespace", "shop-" + std::to_string(i % 20)},
        {"uid", "0b7c1d2e-3f40-4a5b-8c6d-" + std::to_string(100000000000 + i)},
        {"resourceVersion", std::to_string(5000000 + i)},
        {"generation", 1},
        {"creationTimestamp", "2026-11-29T10:00:00Z"},
        {"labels", {{"app", "web"}, {"pod-template-hash", "7d4b9c8f6d"}, {"tier", "frontend"}}},
        {"annotations", {{"kubectl.kubernetes.io/restartedAt", "2026-11-28T09:00:00Z"}}},
        {"ownerReferences",
         {{{"apiVersion", "apps/v1"},
           {"kind", "ReplicaSet"},
           {"name", "web-7d4b9c8f6d"},
           {"uid", "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"},
           {"controller", true},
           {"blockOwnerDeletion", true}}}},
        {"managedFields", managed}}},
      {"spec",
       {{"containers",
         {{{"name", "web"},
           {"image", "registry.example/shop/web:1.27.3"},
           {"ports", {{{"containerPort", 8080}, {"protocol", "TCP"}}}},
           {"resources",
            {{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}},
             {"limits", {{"memory", "256Mi"}}}}},
           {"env", {{{"name", "MODE"}, {"value", "production"}}}},
           {"terminationMessagePath", "/dev/termination-log"},
           {"imagePullPolicy", "IfNotPresent"}}}},
        {"restartPolicy", "Always"},
        {"dnsPolicy", "ClusterFirst"},
        {"nodeName", "node-" + std::to_string(i % 7)},
        {"serviceAccountName", "default"},
        {"schedulerName", "default-scheduler"},
        {"terminationGracePeriodSeconds", 30}}},
      {"status",
       {{"phase", "Running"},
        {"hostIP", "10.0.0." + std::to_string(i % 250)},
        {"podIP", "10.244." + std::to_string(i % 250) + "." + std::to_string(i % 200)},
        {"conditions",
         {{{"type", "Ready"}, {"status", "True"}},
          {{"type", "ContainersReady"}, {"status", "True"}}}},
        {"startTime", "2026-11-29T10:00:01Z"}}},
  };
}

size_t residentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4096;
}

nlohmann::json benchDecode(int objects) {
  nlohmann::json list = {{"apiVersion", "v1"},
                         {"kind", "PodList"},
                         {"metadata", {{"resourceVersion", "6000000"}}},
                         {"items", nlohmann::json::array()}};
  size_t itemBytes = 0;
  for (int i = 0; i < objects; ++i) {
    auto pod = makePod(i);
    pod.erase("apiVersion");  // items of a LIST carry no apiVersion/kind
    pod.erase("kind");
    itemBytes += pod.dump().size();
    list["items"].push_back(std::move(pod));
  }
  const std::string body = list.dump();
  list = nullptr;

  simdjson::dom::parser parser;
  std::vector<wop::cache::ObjectPtr> decoded;
  double best = 1e9, bestParse = 1e9;
  for (int round = 0; round < 5; ++round) {
    decoded.clear();
    decoded.reserve(objects);
    auto start = Clock::now();
    simdjson::dom::element page;
    if (parser.parse(body).get(page) != simdjson::SUCCESS) std::abort();
    bestParse = std::min(bestParse, secondsSince(start));
    simdjson::dom::array items;
    if (page["items"].get(items) != simdjson::SUCCESS) std::abort();
    for (auto item : items) {
      auto object = wop::cache::decodeObject(item, DecodeOptions{true, "v1", "Pod"});
      if (!object) std::abort();
      decoded.push_back(std::move(*object));
    }
    best = std::min(best, secondsSince(start));
  }

  // Memory: a fresh store filled from the decoded objects, against RSS growth.
  malloc_trim(0);
  const size_t rssBefore = residentBytes();
  size_t storedJson = 0;
  {
    wop::cache::Store store;
    std::vector<wop::cache::ObjectPtr> fresh;
    for (int i = 0; i < objects; ++i) {
      auto pod = makePod(i).dump();
      auto object = wop::cache::decodeObjectJson(parser, pod, {});
      storedJson += (*object)->json.size();
      store.upsert(std::move(*object));
    }
    malloc_trim(0);
    const size_t rssAfter = residentBytes();
    const double perObjectAccounted = static_cast<double>(store.objectBytes()) / objects;
    return {
        {"list_objects", objects},
        {"list_bytes", body.size()},
        {"list_item_json_bytes_avg", static_cast<double>(itemBytes) / objects},
        {"decode_seconds", best},
        {"parse_only_seconds", bestParse},
        {"decode_mb_per_s", body.size() / best / 1e6},
        {"decode_objects_per_s", objects / best},
        {"stored_json_bytes_avg", static_cast<double>(storedJson) / objects},
        {"cache_bytes_per_object_accounted", perObjectAccounted},
        {"cache_bytes_per_object_rss", static_cast<double>(rssAfter - rssBefore) / objects},
        {"cache_to_json_ratio", perObjectAccounted / (static_cast<double>(itemBytes) / objects)},
    };
  }
}

nlohmann::json benchEventsOffline(int events) {
  std::string stream;
  for (int i = 0; i < events; ++i) {
    auto pod = makePod(i % 1000);
    pod["metadata"]["resourceVersion"] = std::to_string(7000000 + i);
    stream += nlohmann::json({{"type", i < 1000 ? "ADDED" : "MODIFIED"}, {"object", pod}}).dump();
    stream += '\n';
  }
  wop::kube::WatchDecoder decoder;
  simdjson::dom::parser parser;
  wop::cache::Store store;
  std::vector<wop::kube::WatchEvent> batch;
  size_t applied = 0;
  auto start = Clock::now();
  constexpr size_t kChunk = 16 * 1024;  // a typical read from an HTTP/2 stream
  for (size_t offset = 0; offset < stream.size(); offset += kChunk) {
    batch.clear();
    auto status = decoder.feed(std::string_view(stream).substr(offset, kChunk), batch);
    if (!status.isOk()) std::abort();
    for (const auto& event : batch) {
      auto object = wop::cache::decodeObjectJson(parser, event.object, {});
      if (!object) std::abort();
      store.upsert(std::move(*object));
      ++applied;
    }
  }
  const double seconds = secondsSince(start);
  return {{"offline_events", applied},
          {"offline_stream_bytes", stream.size()},
          {"offline_events_per_s", applied / seconds},
          {"offline_mb_per_s", stream.size() / seconds / 1e6}};
}

nlohmann::json benchEventsLive(const std::string& kubeconfig, int writers, double seconds) {
  wop::kube::KubeconfigOptions options;
  options.explicitPath = kubeconfig;
  auto config = wop::kube::loadKubeconfig(options);
  if (!config) {
    std::cerr << config.status().toString() << "\n";
    std::exit(1);
  }
  wop::kube::Client client(*config, {.qps = 0});
  const wop::kube::ResourceInfo configMaps{{"", "v1", "configmaps"}, "ConfigMap", true};
  const std::string ns = "bench-informer";
  (void)client.create(
      {{"", "v1", "namespaces"}, "Namespace", false}, "",
      R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench-informer"}})");
  for (int w = 0; w < writers; ++w) {
    (void)client.create(configMaps, ns,
                        nlohmann::json({{"metadata", {{"name", "cm-" + std::to_string(w)}}},
                                        {"data", {{"n", "0"}}}})
                            .dump());
  }
  auto informer = wop::cache::Informer::create(client, {configMaps, ns, "", "", false});
  std::atomic<uint64_t> seen{0};
  informer->addHandlers({nullptr, [&](const auto&, const auto&) { seen++; }, nullptr});
  informer->start();
  if (!informer->waitForSync(std::chrono::seconds(30))) std::exit(1);

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> written{0};
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      for (int n = 1; !stop; ++n) {
        auto patched = client.patch(configMaps, ns, "cm-" + std::to_string(w),
                                    wop::kube::PatchType::kJsonMerge,
                                    R"({"data":{"n":")" + std::to_string(n) + "\"}}");
        if (patched) written++;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double writeSeconds = secondsSince(start);
  const uint64_t target = written.load();
  while (seen.load() < target && secondsSince(start) < writeSeconds + 10) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const double total = secondsSince(start);
  informer->stop();
  return {{"live_writers", writers},
          {"live_writes", target},
          {"live_events_seen", seen.load()},
          {"live_write_per_s", target / writeSeconds},
          {"live_events_per_s", seen.load() / total},
          {"live_all_events_seen", seen.load() >= target}};
}

}  // namespace

int main(int argc, char** argv) {
  std::string kubeconfig;
  int objects = 10000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--kubeconfig") kubeconfig = argv[i + 1];
    if (flag == "--objects") objects = std::stoi(argv[i + 1]);
  }
  nlohmann::json result = benchDecode(objects);
  result.update(benchEventsOffline(20000));
  if (!kubeconfig.empty()) result.update(benchEventsLive(kubeconfig, 8, 10.0));
  std::cout << result.dump(2) << std::endl;
  return 0;
}
