// ScriptedHost: the SDK's Host for unit tests of the SDK's own helpers that answer each API
// call by hand, token by token (runtime.complete(token, status, body)), to check exactly what a
// helper sends and how it takes each answer. Records every call; tokens count up from 1; the
// cache is a map from request fields to JSON text. Operator authors, and tests that want a
// cluster that answers as the API server does, use wop::testing::ScriptedHost
// (docs/sdk-testing.md).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "wop/host.h"

namespace wop::sdk::scripted {

struct ReconcileDone {
  uint32_t reconcileId;
  int32_t outcome;
  int64_t requeueAfterMs;
  std::string message;
};

class ScriptedHost : public detail::Host {
 public:
  ScriptedHost() { detail::setHost(this); }
  ~ScriptedHost() override { detail::setHost(nullptr); }

  void log(int32_t level, std::string_view message) override {
    logs.emplace_back(level, std::string(message));
  }
  int32_t configGet(std::string* out) override {
    *out = config;
    return WOP_OK;
  }
  int32_t declare(std::string_view declaration) override {
    declarations.push_back(nlohmann::json::parse(declaration));
    return declareStatus < 0 ? declareStatus : nextControllerId++;
  }
  int32_t cacheRead(std::string_view request, std::string* out) override {
    auto parsed = nlohmann::json::parse(request);
    cacheReads.push_back(parsed);
    if (cacheStatus < 0) return cacheStatus;
    auto it = cache.find(cacheKey(parsed));
    if (it == cache.end()) return WOP_ERR_NOT_FOUND;
    *out = it->second;
    return WOP_OK;
  }
  int32_t apiCall(std::string_view request) override {
    calls.push_back(nlohmann::json::parse(request));
    return apiCallStatus < 0 ? apiCallStatus : nextToken++;
  }
  int32_t reconcileDone(uint32_t reconcileId, int32_t outcome, int64_t requeueAfterMs,
                        std::string_view message) override {
    done.push_back({reconcileId, outcome, requeueAfterMs, std::string(message)});
    return WOP_OK;
  }
  int32_t emitKey(std::string_view key) override {
    emitted.emplace_back(key);
    return WOP_OK;
  }

  // Cache contents: an object by name, or a list ({"items": [...]}) by label selector.
  void putObject(const nlohmann::json& object) {
    const auto& metadata = object["metadata"];
    cache[cacheKey({{"apiVersion", object["apiVersion"]},
                    {"kind", object["kind"]},
                    {"namespace", metadata.value("namespace", "")},
                    {"name", metadata["name"]}})] = object.dump();
  }
  void putList(std::string apiVersion, std::string kind, std::string ns, std::string selector,
               const nlohmann::json& items) {
    cache[cacheKey({{"apiVersion", apiVersion},
                    {"kind", kind},
                    {"namespace", ns},
                    {"labelSelector", selector}})] = nlohmann::json{{"items", items}}.dump();
  }

  // A read by field index: the items whose index `index` has `value` (and match selector).
  void putIndexed(std::string apiVersion, std::string kind, std::string ns, std::string index,
                  std::string value, const nlohmann::json& items, std::string selector = "") {
    cache[cacheKey({{"apiVersion", apiVersion},
                    {"kind", kind},
                    {"namespace", ns},
                    {"labelSelector", selector},
                    {"index", index},
                    {"value", value}})] = nlohmann::json{{"items", items}}.dump();
  }

  std::vector<std::pair<int32_t, std::string>> logs;
  std::string config = "{}";
  std::vector<nlohmann::json> declarations;
  int32_t nextControllerId = 0;
  int32_t declareStatus = WOP_OK;
  std::map<std::string, std::string> cache;
  std::vector<nlohmann::json> cacheReads;
  int32_t cacheStatus = WOP_OK;  // < 0: every cache read answers this
  std::vector<nlohmann::json> calls;
  int32_t nextToken = 1;
  int32_t apiCallStatus = WOP_OK;
  std::vector<ReconcileDone> done;
  std::vector<std::string> emitted;

 private:
  static std::string cacheKey(const nlohmann::json& request) {
    std::string key = request.value("apiVersion", "") + "|" + request.value("kind", "") + "|" +
                      request.value("namespace", "") + "|";
    if (request.contains("index"))
      key += "index=" + request.value("index", "") + "=" + request.value("value", "") + "|";
    return request.contains("name") ? key + "name=" + request.value("name", "")
                                    : key + "selector=" + request.value("labelSelector", "");
  }
};

}  // namespace wop::sdk::scripted
