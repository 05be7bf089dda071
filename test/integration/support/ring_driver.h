// Drives a ring of ring.wasm operators (operators/ring) in one host from an integration test:
// starts them, raises the nonce in the first namespace and times how long the last namespace
// takes to have it. Used by the tests that show a misbehaving neighbour (a hog, a stalled
// outbound call) leaves the ring's round trip alone.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "kube/client.h"
#include "runtime/operator_host.h"
#include "support/host_test_support.h"
#include "support/kube_test_env.h"

namespace wop::testing {

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

class RingDriver {
 public:
  // admin: setup and observation (no limiter, not the host's budget).
  RingDriver(kube::Client& admin, runtime::OperatorHost& host)
      : admin_(admin),
        host_(host),
        // Nonces only grow (the ring never lowers one), also across runs on one control plane.
        nonce_(std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count()) {}

  // n ring operators, operator i from "<prefix>-i" into "<prefix>-(i+1 mod n)".
  void start(const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) ensureNamespace(admin_, prefix + "-" + std::to_string(i));
    for (int i = 0; i < n; ++i) {
      nlohmann::json config = {{"inputNamespace", prefix + "-" + std::to_string(i)},
                               {"outputNamespace", prefix + "-" + std::to_string((i + 1) % n)}};
      auto added = host_.add({.name = prefix + "-op-" + std::to_string(i),
                              .modulePath = std::string(WOP_WASM_DIR) + "/ring.wasm",
                              .serviceAccountNamespace = "wasm-operators-ring",
                              .serviceAccountName = "ring-" + std::to_string(i),
                              .configJson = config.dump()});
      ASSERT_TRUE(added.isOk()) << added.toString();
    }
    prefix_ = prefix;
    size_ = n;
  }

  // Seconds from raising the nonce in "<prefix>-0" until "<prefix>-(n-1)" has it (30: never).
  double roundTrip() {
    const int64_t nonce = ++nonce_;
    const std::string first = prefix_ + "-0";
    const std::string last = prefix_ + "-" + std::to_string(size_ - 1);
    const auto start = std::chrono::steady_clock::now();
    auto patched = admin_.patch(kTestResources, first, "token", kube::PatchType::kJsonMerge,
                                nlohmann::json({{"spec", {{"nonce", nonce}}}}).dump());
    if (!patched && patched.error().reason == kube::ApiReason::kNotFound) {
      nlohmann::json object = {{"apiVersion", "bench.wasm-operator.dev/v1"},
                               {"kind", "TestResource"},
                               {"metadata", {{"name", "token"}, {"namespace", first}}},
                               {"spec", {{"nonce", nonce}}}};
      EXPECT_TRUE(admin_.create(kTestResources, first, object.dump()));
    }
    while (nonceIn(last) < nonce) {
      if (std::chrono::steady_clock::now() - start > std::chrono::seconds(30)) return 30;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  // At least n round trips, and for at least `span` (so a neighbour has time to show).
  std::vector<double> roundTrips(int n, std::chrono::seconds span = std::chrono::seconds(0)) {
    std::vector<double> out;
    const auto end = std::chrono::steady_clock::now() + span;
    while (static_cast<int>(out.size()) < n || std::chrono::steady_clock::now() < end) {
      out.push_back(roundTrip());
    }
    return out;
  }

 private:
  inline static const kube::ResourceInfo kTestResources{
      {"bench.wasm-operator.dev", "v1", "testresources"}, "TestResource", true};

  int64_t nonceIn(const std::string& ns) {
    auto object = admin_.get(kTestResources, ns, "token");
    if (!object) return -1;
    return parseJson(*object)["spec"].value("nonce", int64_t{-1});
  }

  kube::Client& admin_;
  runtime::OperatorHost& host_;
  std::string prefix_;
  int size_ = 0;
  int64_t nonce_;
};

}  // namespace wop::testing
