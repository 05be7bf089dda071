// A read that fails because the API server is down is an error, not "absent" (issue 11): an SDK
// guest (test/guests/fetcher) is in the middle of a reconcile, waiting on a slow outbound call,
// when the API server stops. Its next read goes to the API server itself (getLive: the host's
// cache would still answer), fails, and the guest returns the error; the key is retried with
// backoff until the API server is back and the read succeeds. Nothing is lost and nothing is
// taken for deleted.
// Reads refused by RBAC are tested beside the rest of the runtime: runtime_test.cc (a cache
// read the operator's identity may not make) and kube_client_test.cc (the API server's 403).
#include <gtest/gtest.h>

#include <filesystem>

#include "outbound/outbound_client.h"
#include "runtime/operator_host.h"
#include "support/host_test_support.h"
#include "support/kube_test_env.h"
#include "support/outbound_server.h"

namespace wop::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kResult = "fetcher.wasm-operator.dev/result";

// Stops the fixture's API server (testenv/controlplane.py stop-apiserver) and starts it again
// at end() or, whatever the test did, when destroyed: the tests after this one need it.
class ApiServerOutage {
 public:
  ApiServerOutage() : down_(controlPlane("stop-apiserver") == 0) {}
  ~ApiServerOutage() { (void)end(); }
  ApiServerOutage(const ApiServerOutage&) = delete;
  ApiServerOutage& operator=(const ApiServerOutage&) = delete;

  bool down() const { return down_; }
  // Starts the API server and waits until it is ready; false if it did not come back.
  [[nodiscard]] bool end() {
    if (!down_) return true;
    down_ = false;
    return controlPlane("start-apiserver") == 0;
  }

 private:
  bool down_;
};

class ApiOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ready()) << "the test HTTPS server did not start";
    admin_ = adminClient();
    ASSERT_NE(admin_, nullptr);
    // The host's client keeps its defaults: a failed GET is retried 5 times (about 3 s) before
    // the guest sees the failure.
    hostClient_ = adminClient(kube::ClientOptions{});
    auto outbound = outbound::OutboundClient::create(
        {.extraCaFile = server_.caFile()},
        outbound::AddressPolicy::forApiServer(hostClient_->config().server));
    ASSERT_TRUE(outbound) << outbound.status().toString();
    artifacts_ =
        std::filesystem::temp_directory_path() / ("wop-outage-" + std::to_string(::getpid()));
    std::filesystem::create_directories(artifacts_);
    host_ = std::make_unique<runtime::OperatorHost>(
        *hostClient_,
        runtime::HostOptions{
            .workers = 2,
            .artifactDirectory = artifacts_.string(),
            .outbound = std::shared_ptr<outbound::OutboundClient>(std::move(*outbound))},
        logs_.sink());
  }
  void TearDown() override {
    host_.reset();
    std::filesystem::remove_all(artifacts_);
  }

  void putConfigMap(const std::string& ns, const std::string& name, nlohmann::json data) {
    removeIfPresent(*admin_, kConfigMaps, ns, name);
    nlohmann::json object = {{"apiVersion", "v1"},
                             {"kind", "ConfigMap"},
                             {"metadata", {{"name", name}, {"namespace", ns}}},
                             {"data", std::move(data)}};
    auto created = admin_->create(kConfigMaps, ns, object.dump());
    ASSERT_TRUE(created) << created.error().toString();
  }

  std::string resultOf(const std::string& ns, const std::string& name) {
    auto object = admin_->get(kConfigMaps, ns, name);
    if (!object) return "";
    return parseJson(*object)["metadata"]
        .value("annotations", nlohmann::json::object())
        .value(kResult, "");
  }

  OutboundServer server_;
  std::unique_ptr<kube::Client> admin_;
  std::unique_ptr<kube::Client> hostClient_;
  std::filesystem::path artifacts_;
  LogCapture logs_;
  std::unique_ptr<runtime::OperatorHost> host_;
};

TEST_F(ApiOutageTest, AReadThatFailsMidReconcileIsRetriedUntilTheApiServerIsBack) {
  const std::string ns = "outage-read";
  ensureNamespace(*admin_, ns);
  putConfigMap(ns, "target", {{"value", "kept"}});
  auto added = host_->add({.name = "fetcher-outage",
                           .modulePath = std::string(WOP_WASM_DIR) + "/fetcher.wasm",
                           .trusted = true,
                           .configJson = nlohmann::json({{"namespace", ns}}).dump(),
                           .allowedHosts = {server_.base()}});
  ASSERT_TRUE(added.isOk()) << added.toString();

  // reader's reconcile calls the slow endpoint (6 s), then reads target from the API server.
  putConfigMap(ns, "reader", {{"url", server_.base() + "/slow?ms=6000"}, {"live", "target"}});
  ASSERT_TRUE(eventually([&] { return logs_.contains(ns + "/reader: calling"); }));
  const auto called = Clock::now();
  {
    ApiServerOutage outage;
    ASSERT_TRUE(outage.down()) << "controlplane.py stop-apiserver failed";
    ASSERT_LT(Clock::now() - called, 5s) << "the API server went down only after the call ended";
    ASSERT_TRUE(eventually(
        [&] { return logs_.contains("reconcile failed: live read of " + ns + "/target: "); }, 60s))
        << "the failed read did not fail the reconcile";
    EXPECT_TRUE(
        logs_.contains("reconcile failed: live read of " + ns + "/target: WOP_ERR_UNAVAILABLE: "))
        << "the error says there was no answer, and why";
    EXPECT_GE(statsOf(*host_, "fetcher-outage").reconcileErrors, 1u);
    ASSERT_TRUE(outage.end()) << "the API server did not come back";
  }

  // Retried with backoff: once the API server answers again, the read and the write succeed.
  std::string result;
  EXPECT_TRUE(eventually([&] { return !(result = resultOf(ns, "reader")).empty(); }, 90s));
  EXPECT_EQ(result, "200 slow live=kept");
  EXPECT_FALSE(logs_.contains("live=absent")) << "an unanswered read was taken for absent";
  EXPECT_EQ(statsOf(*host_, "fetcher-outage").restarts, 0u);
  removeIfPresent(*admin_, kConfigMaps, ns, "reader");
  removeIfPresent(*admin_, kConfigMaps, ns, "target");
}

}  // namespace
}  // namespace wop::testing
