// Fairness against the real control plane (DESIGN.md principle 9): a noisy operator slows only
// itself. The measure is the ring's round trip (a nonce carried over two hops, ring-0 to
// ring-2) undisturbed and then beside hostile guests, in the same test: two that busy-wait
// 0.9 s per reconcile and requeue at once (worker time), one that keeps 64 API calls in flight
// (API rate), and one that floods its log with forged lines (log volume).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <wasmtime.hh>

#include "runtime/operator_host.h"
#include "support/host_test_support.h"
#include "support/kube_test_env.h"
#include "support/ring_driver.h"

namespace wop::testing {
namespace {

using runtime::OperatorSpec;
using Clock = std::chrono::steady_clock;

class FairnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = adminClient();  // setup and observation: no limiter, not the host's budget
    ASSERT_NE(admin_, nullptr);
    applyManifests(*admin_, std::string(WOP_SOURCE_DIR) + "/deploy/crds/testresources.yaml");
    applyManifests(*admin_, std::string(WOP_SOURCE_DIR) + "/deploy/rbac/example-operators.yaml");
    // The host's client at the QPS/burst users get (50/100), as in the measurements.
    hostClient_ = adminClient(kube::ClientOptions{});
    artifacts_ =
        std::filesystem::temp_directory_path() / ("wop-fair-" + std::to_string(::getpid()));
    std::filesystem::create_directories(artifacts_);
    host_ = std::make_unique<runtime::OperatorHost>(
        *hostClient_,
        runtime::HostOptions{.workers = 2,
                             .artifactDirectory = artifacts_.string(),
                             .restartBackoffBase = std::chrono::milliseconds(200),
                             .restartBackoffMax = std::chrono::seconds(2)},
        logs_.sink());
    ring_ = std::make_unique<RingDriver>(*admin_, *host_);
  }
  void TearDown() override {
    host_.reset();
    for (const auto& [ns, name] : pokes_) removeIfPresent(*admin_, kConfigMaps, ns, name);
    std::filesystem::remove_all(artifacts_);
  }

  std::string addHostile(const std::string& guest, const std::string& name) {
    auto added = host_->add(
        {.name = name,
         .modulePath = watModule("test/guests/hostile/" + guest + ".wat", artifacts_.string()),
         .trusted = true});
    EXPECT_TRUE(added.isOk()) << added.toString();
    return name;
  }

  // A ConfigMap every hostile guest reconciles (they watch its label in all namespaces).
  void poke(const std::string& ns) {
    ensureNamespace(*admin_, ns);
    removeIfPresent(*admin_, kConfigMaps, ns, "poke");
    nlohmann::json object = {{"apiVersion", "v1"},
                             {"kind", "ConfigMap"},
                             {"metadata",
                              {{"name", "poke"},
                               {"namespace", ns},
                               {"labels", {{"hostile.wasm-operator.dev/target", "yes"}}}}}};
    ASSERT_TRUE(admin_->create(kConfigMaps, ns, object.dump()));
    pokes_.emplace_back(ns, "poke");
  }

  static void report(const char* what, const std::vector<double>& quiet,
                     const std::vector<double>& noisy) {
    std::printf(
        "[fairness] %s: ring round trip (2 hops) median %.3f s max %.3f s undisturbed; "
        "median %.3f s max %.3f s disturbed\n",
        what, median(quiet), *std::max_element(quiet.begin(), quiet.end()), median(noisy),
        *std::max_element(noisy.begin(), noisy.end()));
  }

  std::unique_ptr<kube::Client> admin_;
  std::unique_ptr<kube::Client> hostClient_;
  std::filesystem::path artifacts_;
  LogCapture logs_;
  std::unique_ptr<runtime::OperatorHost> host_;
  std::unique_ptr<RingDriver> ring_;  // uses admin_ and host_
  std::vector<std::pair<std::string, std::string>> pokes_;
};

TEST_F(FairnessTest, TwoOperatorsBusyForASecondPerReconcileDoNotSlowTheRing) {
  ring_->start("rt-fair-cpu", 3);
  ring_->roundTrip();  // the first creates the objects and warms the caches
  const auto quiet = ring_->roundTrips(5);

  const auto busy1 = addHostile("busy", "busy-1");
  const auto busy2 = addHostile("busy", "busy-2");
  poke("rt-fair-cpu-busy");
  ASSERT_TRUE(eventually([&] {
    return statsOf(*host_, busy1).reconciles >= 1 && statsOf(*host_, busy2).reconciles >= 1;
  }));
  const auto before = statsOf(*host_, busy1).reconciles + statsOf(*host_, busy2).reconciles;
  const auto noisy = ring_->roundTrips(8, std::chrono::seconds(4));
  const auto after = statsOf(*host_, busy1).reconciles + statsOf(*host_, busy2).reconciles;
  report("two busy operators", quiet, noisy);

  // The hogs kept burning a worker the whole time (one 0.9 s entry after another)...
  EXPECT_GE(after - before, 3u);
  // ...and the ring barely noticed: no hop waited for a 0.9 s entry to end.
  EXPECT_LT(median(noisy), median(quiet) + 0.3);
  EXPECT_LT(*std::max_element(noisy.begin(), noisy.end()), median(quiet) + 0.8);
}

TEST_F(FairnessTest, AnOperatorWith64CallsInFlightDoesNotSlowTheRing) {
  ring_->start("rt-fair-api", 3);
  ring_->roundTrip();
  const auto quiet = ring_->roundTrips(5);

  const auto flood = addHostile("api_flood", "api-flood");
  poke("rt-fair-api");  // also the object its GETs read
  ASSERT_TRUE(eventually([&] { return statsOf(*host_, flood).apiCalls >= 200; }));
  const auto before = statsOf(*host_, flood).apiCalls;
  const auto noisy = ring_->roundTrips(8, std::chrono::seconds(4));
  const auto calls = statsOf(*host_, flood).apiCalls - before;
  report("64 API calls in flight", quiet, noisy);

  EXPECT_GE(calls, 40u);  // it kept taking its share (and more) of the host's 50 QPS
  // Each hop's one write waits for at most a token per busy flow (20 ms each at 50 QPS).
  EXPECT_LT(median(noisy), median(quiet) + 0.3);
  EXPECT_LT(*std::max_element(noisy.begin(), noisy.end()), median(quiet) + 0.8);
}

TEST_F(FairnessTest, ALogFloodIsEscapedAndCutToTheOperatorsBudget) {
  const auto start = Clock::now();
  const auto flood = addHostile("log_flood", "log-flood");
  poke("rt-fair-log");
  ASSERT_TRUE(eventually([&] { return statsOf(*host_, flood).logLinesDropped >= 10'000; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a drop report per second
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const std::string prefix = flood + ": ";
  size_t written = 0;
  size_t reports = 0;
  {
    std::lock_guard lock(logs_.mutex);
    for (const auto& line : logs_.lines) {
      if (line.rfind(prefix, 0) != 0) continue;
      written++;
      if (line.find("log line(s) dropped") != std::string::npos) reports++;
      for (char c : line) {
        const auto byte = static_cast<unsigned char>(c);
        EXPECT_FALSE(byte < 0x20 || byte == 0x7f || byte == 0xff || byte == 0xfe)
            << "raw byte " << static_cast<int>(byte) << " in: " << line;
      }
    }
  }
  // Burst 200 + 100 a second, plus the host's own lines and one report a second.
  EXPECT_LE(written, 200 + 100 * seconds + 3 * seconds + 10) << seconds << " s";
  EXPECT_GE(reports, 1u);
  EXPECT_TRUE(logs_.contains("\\r\\x1b[2K"));  // what the forged line became (escaped)
}

}  // namespace
}  // namespace wop::testing
