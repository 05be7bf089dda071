#include "server/cluster_flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kube/temp_dir.h"

namespace wop::server {
namespace {

using ::testing::HasSubstr;
using wop::testing::TempDir;

common::Result<ParsedFlags> parse(std::vector<std::string> args) {
  FlagSet flags("wasm-operator run", "Runs.");
  flags.add(clusterFlags());
  return flags.parse(args);
}

std::string refusal(std::vector<std::string> args) {
  auto parsed = parse(std::move(args));
  return parsed ? "accepted" : parsed.status().message();
}

TEST(ClusterFlags, AbsentFlagsMeanTheLibrariesDefaults) {
  auto parsed = parse({});
  ASSERT_TRUE(parsed) << parsed.status().toString();
  const kube::ClientOptions client = clientOptions(*parsed);
  EXPECT_EQ(client.qps, kube::ClientOptions{}.qps);
  EXPECT_EQ(client.burst, kube::ClientOptions{}.burst);
  EXPECT_EQ(hostOptions(*parsed).workers, runtime::HostOptions{}.workers);
}

TEST(ClusterFlags, SetTheClientsRateAndTheWorkers) {
  auto parsed = parse({"--qps", "7.5", "--burst", "3", "--workers", "16"});
  ASSERT_TRUE(parsed) << parsed.status().toString();
  EXPECT_EQ(clientOptions(*parsed).qps, 7.5);
  EXPECT_EQ(clientOptions(*parsed).burst, 3);
  EXPECT_EQ(hostOptions(*parsed).workers, 16);
}

TEST(ClusterFlags, ANegativeQpsTurnsTheLimiterOffAsTheRingBenchmarkAsks) {
  auto parsed = parse({"--qps", "-1", "--burst", "100"});
  ASSERT_TRUE(parsed) << parsed.status().toString();
  EXPECT_EQ(clientOptions(*parsed).qps, -1);
}

TEST(ClusterFlags, RefuseWhatAtoiUsedToTurnIntoSomething) {
  EXPECT_EQ(refusal({"--workers", "abc"}), "--workers: \"abc\" is not a whole number");
  EXPECT_EQ(refusal({"--workers", "0"}), "--workers: \"0\" is out of range (1 to 256)");
  EXPECT_EQ(refusal({"--workers", "1000"}), "--workers: \"1000\" is out of range (1 to 256)");
  EXPECT_EQ(refusal({"--burst", "0"}), "--burst: \"0\" is out of range (1 to 100000)");
  EXPECT_EQ(refusal({"--burst", "10k"}), "--burst: \"10k\" is not a whole number");
  EXPECT_EQ(refusal({"--qps", "fast"}), "--qps: \"fast\" is not a number");
  EXPECT_EQ(refusal({"--qps", "1e6"}), "--qps: \"1e6\" is out of range (at most 100000)");
}

TEST(ClusterFlags, HelpShowsBoundsAndDefaults) {
  FlagSet flags("wasm-operator run", "Runs.");
  flags.add(clusterFlags());
  const std::string help = flags.help();
  EXPECT_THAT(help, HasSubstr("threads running guest code (1 to 256, default 2)\n"));
  EXPECT_THAT(help, HasSubstr("0 or less: no limit (at most 100000, default 50)"));
  EXPECT_THAT(help, HasSubstr("(1 to 100000, default 100)"));
}

TEST(ClusterFlags, ReadTheKubeconfigAndContextGiven) {
  TempDir dir;
  const std::string path = dir.write("config", R"(
current-context: dev
clusters:
- name: dev-cluster
  cluster: {server: 'https://dev.example'}
- name: prod-cluster
  cluster: {server: 'https://prod.example'}
contexts:
- name: dev
  context: {cluster: dev-cluster}
- name: prod
  context: {cluster: prod-cluster}
)");
  auto parsed = parse({"--kubeconfig", path, "--context", "prod"});
  ASSERT_TRUE(parsed) << parsed.status().toString();
  auto config = clientConfig(*parsed);
  ASSERT_TRUE(config) << config.status().toString();
  EXPECT_EQ(config->server, "https://prod.example");
  EXPECT_EQ(config->contextName, "prod");
}

TEST(ClusterFlags, AMissingKubeconfigIsAnErrorNamingIt) {
  TempDir dir;
  auto parsed = parse({"--kubeconfig", dir.file("absent")});
  ASSERT_TRUE(parsed) << parsed.status().toString();
  auto config = clientConfig(*parsed);
  ASSERT_FALSE(config);
  EXPECT_THAT(config.status().message(), HasSubstr(dir.file("absent")));
}

}  // namespace
}  // namespace wop::server
