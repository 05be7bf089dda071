// Outbound HTTP (wop_http_call) against the real control plane and a local HTTPS server
// (support/outbound_server.py, with a test CA the host trusts as --module-ca-file's): an
// allowed server answers; a host not listed, the API server and a metadata address are
// refused with a clear error; a redirect is not followed; and a server that answers slowly or
// not at all slows only the operator that calls it: a ring beside it keeps its round trip.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "outbound/outbound_client.h"
#include "runtime/operator_host.h"
#include "support/host_test_support.h"
#include "support/kube_test_env.h"
#include "support/outbound_server.h"
#include "support/ring_driver.h"

namespace wop::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kResult = "fetcher.wasm-operator.dev/result";

class OutboundHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ready()) << "the test HTTPS server did not start";
    admin_ = adminClient();
    ASSERT_NE(admin_, nullptr);
    applyManifests(*admin_, std::string(WOP_SOURCE_DIR) + "/deploy/crds/testresources.yaml");
    applyManifests(*admin_, std::string(WOP_SOURCE_DIR) + "/deploy/rbac/example-operators.yaml");
    hostClient_ = adminClient(kube::ClientOptions{});
    auto outbound = outbound::OutboundClient::create(
        {.extraCaFile = server_.caFile()},
        outbound::AddressPolicy::forApiServer(hostClient_->config().server));
    ASSERT_TRUE(outbound) << outbound.status().toString();
    artifacts_ =
        std::filesystem::temp_directory_path() / ("wop-outbound-" + std::to_string(::getpid()));
    std::filesystem::create_directories(artifacts_);
    host_ = std::make_unique<runtime::OperatorHost>(
        *hostClient_,
        runtime::HostOptions{
            .workers = 2,
            .artifactDirectory = artifacts_.string(),
            .outbound = std::shared_ptr<outbound::OutboundClient>(std::move(*outbound))},
        logs_.sink());
    ring_ = std::make_unique<RingDriver>(*admin_, *host_);
  }
  void TearDown() override {
    host_.reset();
    for (const auto& [ns, name] : made_) removeIfPresent(*admin_, kConfigMaps, ns, name);
    std::filesystem::remove_all(artifacts_);
  }

  void addFetcher(const std::string& name, const std::string& ns,
                  std::vector<std::string> allowedHosts, int concurrency = 1) {
    ensureNamespace(*admin_, ns);
    auto added = host_->add(
        {.name = name,
         .modulePath = std::string(WOP_WASM_DIR) + "/fetcher.wasm",
         .trusted = true,
         .configJson = nlohmann::json({{"namespace", ns}, {"concurrency", concurrency}}).dump(),
         .allowedHosts = std::move(allowedHosts)});
    ASSERT_TRUE(added.isOk()) << added.toString();
  }

  // A ConfigMap the fetcher reconciles: it calls url and writes the result beside it.
  void fetch(const std::string& ns, const std::string& name, const std::string& url,
             const std::string& timeoutMs = "0") {
    removeIfPresent(*admin_, kConfigMaps, ns, name);
    nlohmann::json object = {{"apiVersion", "v1"},
                             {"kind", "ConfigMap"},
                             {"metadata", {{"name", name}, {"namespace", ns}}},
                             {"data", {{"url", url}, {"timeoutMs", timeoutMs}}}};
    ASSERT_TRUE(admin_->create(kConfigMaps, ns, object.dump()));
    made_.emplace_back(ns, name);
  }

  std::string resultOf(const std::string& ns, const std::string& name,
                       const char* annotation = kResult) {
    auto object = admin_->get(kConfigMaps, ns, name);
    if (!object) return "";
    const auto parsed = parseJson(*object);
    return parsed["metadata"].value("annotations", nlohmann::json::object()).value(annotation, "");
  }

  std::string awaitResult(const std::string& ns, const std::string& name,
                          std::chrono::seconds timeout = std::chrono::seconds(30)) {
    std::string result;
    eventually([&] { return !(result = resultOf(ns, name)).empty(); }, timeout);
    return result;
  }

  OutboundServer server_;
  std::unique_ptr<kube::Client> admin_;
  std::unique_ptr<kube::Client> hostClient_;
  std::filesystem::path artifacts_;
  LogCapture logs_;
  std::unique_ptr<runtime::OperatorHost> host_;
  std::vector<std::pair<std::string, std::string>> made_;
  std::unique_ptr<RingDriver> ring_;  // uses admin_ and host_
};

TEST_F(OutboundHttpTest, AnAllowedServerAnswersAndARedirectIsNotFollowed) {
  addFetcher("fetch-ok", "rt-out-ok", {server_.base()});
  fetch("rt-out-ok", "fast", server_.base() + "/fast");
  EXPECT_EQ(awaitResult("rt-out-ok", "fast"), "200 hello");
  fetch("rt-out-ok", "redirect", server_.base() + "/redirect");
  EXPECT_EQ(awaitResult("rt-out-ok", "redirect"), "302 ");
  EXPECT_EQ(resultOf("rt-out-ok", "redirect", "fetcher.wasm-operator.dev/location"),
            "https://169.254.169.254/latest/meta-data");
}

TEST_F(OutboundHttpTest, HostsNotAllowedTheApiServerAndMetadataAreRefusedWithAClearError) {
  const std::string apiServer = hostClient_->config().server;  // https://127.0.0.1:PORT
  // Even listed, the API server and the metadata address stay out of reach.
  addFetcher("fetch-refused", "rt-out-refused",
             {server_.base(), apiServer, "https://169.254.169.254"});

  fetch("rt-out-refused", "unlisted", "https://127.0.0.2:" + server_.base().substr(18) + "/fast");
  EXPECT_EQ(awaitResult("rt-out-refused", "unlisted").rfind("-4 ", 0), 0u);  // WOP_ERR_FORBIDDEN
  EXPECT_TRUE(
      eventually([&] { return logs_.contains("is not in the operator's spec.allowedHosts"); }));

  fetch("rt-out-refused", "apiserver", apiServer + "/api");
  EXPECT_EQ(awaitResult("rt-out-refused", "apiserver").rfind("-4 ", 0), 0u);
  EXPECT_TRUE(eventually([&] { return logs_.contains("it is the API server"); }));

  fetch("rt-out-refused", "metadata", "https://169.254.169.254/latest/meta-data");
  EXPECT_EQ(awaitResult("rt-out-refused", "metadata").rfind("-4 ", 0), 0u);
  EXPECT_TRUE(eventually([&] { return logs_.contains("link-local, cloud metadata"); }));

  fetch("rt-out-refused", "userinfo", "https://x@" + server_.base().substr(8) + "/fast");
  EXPECT_EQ(awaitResult("rt-out-refused", "userinfo").rfind("-1 ", 0), 0u);  // INVALID_ARGUMENT
}

TEST_F(OutboundHttpTest, AStallingServerSlowsOnlyTheOperatorThatCallsIt) {
  ring_->start("rt-out-ring", 3);
  ring_->roundTrip();  // the first creates the objects and warms the caches
  const auto quiet = ring_->roundTrips(5);

  // 15 calls to a server that never answers (the most a reconcile-per-key fetcher keeps in
  // flight here) and one to a slow one, all waiting at once.
  addFetcher("fetch-stall", "rt-out-stall", {server_.base()}, /*concurrency=*/16);
  const auto stalledAt = Clock::now();
  for (int i = 0; i < 15; ++i) {
    fetch("rt-out-stall", "stall-" + std::to_string(i), server_.base() + "/stall", "6000");
  }
  fetch("rt-out-stall", "slow", server_.base() + "/slow?ms=2000", "6000");
  ASSERT_TRUE(eventually([&] { return statsOf(*host_, "fetch-stall").httpCalls >= 16; }));
  const auto noisy = ring_->roundTrips(8, std::chrono::seconds(4));
  std::printf(
      "[outbound] ring round trip (2 hops) median %.3f s max %.3f s undisturbed; median %.3f s "
      "max %.3f s beside 15 stalled and 1 slow outbound calls\n",
      median(quiet), *std::max_element(quiet.begin(), quiet.end()), median(noisy),
      *std::max_element(noisy.begin(), noisy.end()));
  EXPECT_LT(median(noisy), median(quiet) + 0.3);
  EXPECT_LT(*std::max_element(noisy.begin(), noisy.end()), median(quiet) + 0.8);

  // The stalled calls were still waiting all along (each ends at its own timeout, not
  // sooner), the slow one answered meanwhile, and the stalled ones then failed with a reason.
  // (A margin of a second: on a loaded machine the read itself once took half a second, and
  // the result was written meanwhile.)
  const double measuredFor = std::chrono::duration<double>(Clock::now() - stalledAt).count();
  if (measuredFor < 5.0) EXPECT_EQ(resultOf("rt-out-stall", "stall-0"), "") << measuredFor;
  EXPECT_EQ(awaitResult("rt-out-stall", "slow"), "200 slow");
  const std::string stalled = awaitResult("rt-out-stall", "stall-0");
  EXPECT_EQ(stalled.rfind("-6 ", 0), 0u) << stalled;  // WOP_ERR_UNAVAILABLE: timed out
  EXPECT_NE(stalled.find("no complete answer within 6000 ms"), std::string::npos) << stalled;
  EXPECT_GE(std::chrono::duration<double>(Clock::now() - stalledAt).count(), 5.9);
  for (int i = 1; i < 15; ++i) {
    EXPECT_EQ(awaitResult("rt-out-stall", "stall-" + std::to_string(i)).rfind("-6 ", 0), 0u);
  }
}

}  // namespace
}  // namespace wop::testing
