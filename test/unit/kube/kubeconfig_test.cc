#include "kube/kubeconfig.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "common/base64.h"
#include "common/limits.h"
#include "kube/temp_dir.h"

namespace wop::kube {
namespace {

using ::testing::HasSubstr;
using wop::testing::TempDir;

constexpr const char* kSingleFile = R"(
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443/
    tls-server-name: api.dev.example
    certificate-authority-data: Q0EgUEVN
users:
- name: dev-user
  user:
    token: dev-token
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: dev-user
    namespace: team-a
)";

KubeconfigOptions explicitFile(const std::string& path, const std::string& context = "") {
  KubeconfigOptions options;
  options.explicitPath = path;
  options.contextOverride = context;
  return options;
}

// A kubeconfig with one context "ctx" whose user body is userYaml (indented under "user:").
std::string withUser(const std::string& userYaml) {
  return "current-context: ctx\n"
         "clusters:\n- name: c\n  cluster:\n    server: https://c.example\n"
         "users:\n- name: other\n  user: {}\n- name: alice\n  user:\n" +
         userYaml + "contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: alice\n";
}

TEST(Kubeconfig, ASingleFileGivesServerTlsCredentialsAndNamespaceOfTheCurrentContext) {
  TempDir dir;
  const std::string path = dir.write("config", kSingleFile);
  auto config = loadKubeconfig(explicitFile(path));
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->server, "https://dev.example:6443");
  EXPECT_EQ(config->tlsServerName, "api.dev.example");
  EXPECT_EQ(config->caPem, "CA PEM");
  EXPECT_EQ(config->bearerToken, "dev-token");
  EXPECT_EQ(config->defaultNamespace, "team-a");
  EXPECT_EQ(config->contextName, "dev");
  EXPECT_EQ(config->source, "kubeconfig " + path + ", context dev");
  EXPECT_FALSE(config->exec.has_value());
  EXPECT_FALSE(config->insecureSkipTlsVerify);
}

TEST(Kubeconfig, AContextWithoutNamespaceUsesDefault) {
  auto config = parseKubeconfig(
      "current-context: x\nclusters:\n- name: c\n  cluster: {server: 'https://h'}\n"
      "contexts:\n- name: x\n  context: {cluster: c}\n",
      "/k");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->defaultNamespace, "default");
  EXPECT_TRUE(config->bearerToken.empty());
}

TEST(Kubeconfig, AContextOverrideReplacesTheCurrentContext) {
  constexpr const char* kTwoContexts = R"(
current-context: dev
clusters:
- name: dev-cluster
  cluster: {server: 'https://dev.example'}
- name: prod-cluster
  cluster: {server: 'https://prod.example', insecure-skip-tls-verify: true}
contexts:
- name: dev
  context: {cluster: dev-cluster, namespace: team-a}
- name: prod
  context: {cluster: prod-cluster}
)";
  auto config = parseKubeconfig(kTwoContexts, "/k", "prod");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->server, "https://prod.example");
  EXPECT_TRUE(config->insecureSkipTlsVerify);
  EXPECT_EQ(config->contextName, "prod");
  EXPECT_EQ(config->defaultNamespace, "default");
}

TEST(Kubeconfig, RelativeCertificatePathsAreResolvedAgainstTheKubeconfigFolder) {
  TempDir dir;
  dir.write("kube/pki/ca.crt", "CA FROM FILE");
  dir.write("kube/pki/client.crt", "CERT FROM FILE");
  dir.write("kube/pki/client.key", "KEY FROM FILE");
  const std::string path = dir.write("kube/config", R"(
current-context: ctx
clusters:
- name: c
  cluster:
    server: https://c.example
    certificate-authority: pki/ca.crt
users:
- name: u
  user:
    client-certificate: pki/client.crt
    client-key: )" + dir.file("kube/pki/client.key") + R"(
contexts:
- name: ctx
  context: {cluster: c, user: u}
)");
  auto config = loadKubeconfig(explicitFile(path));
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->caPem, "CA FROM FILE");
  EXPECT_EQ(config->clientCertPem, "CERT FROM FILE");
  EXPECT_EQ(config->clientKeyPem, "KEY FROM FILE");
}

TEST(Kubeconfig, DataFieldsAreBase64Decoded) {
  const std::string user = "    client-certificate-data: " + common::base64Encode("CERT") +
                           "\n    client-key-data: " + common::base64Encode("KEY!") + "\n";
  auto config = parseKubeconfig(withUser(user), "/k");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->clientCertPem, "CERT");
  EXPECT_EQ(config->clientKeyPem, "KEY!");
}

TEST(Kubeconfig, InvalidBase64NamesTheFileTheEntryAndTheField) {
  auto config = parseKubeconfig(
      withUser("    client-certificate-data: '***'\n    client-key-data: S0VZ\n"), "/tmp/x");
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(), HasSubstr("kubeconfig /tmp/x: users[1] (name \"alice\"): "
                                                   "client-certificate-data is not valid base64"));
}

TEST(Kubeconfig, MalformedYamlNamesTheFile) {
  auto config = parseKubeconfig("clusters: [unclosed\n  - {", "/tmp/broken");
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(), HasSubstr("kubeconfig /tmp/broken: not valid YAML"));
}

TEST(Kubeconfig, ADocumentThatIsNotAMapIsRefused) {
  auto config = parseKubeconfig("- just\n- a list\n", "/tmp/list");
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(),
              HasSubstr("kubeconfig /tmp/list: the document must be a map"));
}

TEST(Kubeconfig, AClusterWithoutServerIsAnError) {
  auto config = parseKubeconfig(
      "current-context: x\nclusters:\n- name: c\n  cluster: {tls-server-name: a}\n"
      "contexts:\n- name: x\n  context: {cluster: c}\n",
      "/k");
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(),
              HasSubstr("kubeconfig /k: clusters[0] (name \"c\"): server is missing"));
}

TEST(Kubeconfig, ACertificateWithoutKeyIsAnError) {
  auto config = parseKubeconfig(withUser("    client-certificate-data: Q0VSVA==\n"), "/k");
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(),
              HasSubstr("users[1] (name \"alice\"): client-certificate is set without client-key"));
}

TEST(Kubeconfig, AKeyWithoutCertificateIsAnError) {
  auto config = parseKubeconfig(withUser("    client-key-data: S0VZ\n"), "/k");
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(), HasSubstr("client-key is set without client-certificate"));
}

TEST(Kubeconfig, AnUnknownContextIsAnError) {
  auto config = parseKubeconfig(kSingleFile, "/k", "nope");
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(),
              HasSubstr("kubeconfig /k: context \"nope\" is not defined"));
}

TEST(Kubeconfig, NoCurrentContextIsAnError) {
  auto config = parseKubeconfig("clusters: []\n", "/k");
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(), HasSubstr("no context selected"));
}

TEST(Kubeconfig, AContextNamingAMissingClusterOrUserIsAnError) {
  auto noCluster = parseKubeconfig(
      "current-context: x\ncontexts:\n- name: x\n  context: {cluster: gone, user: u}\n", "/k");
  ASSERT_FALSE(noCluster.isOk());
  EXPECT_THAT(noCluster.status().message(),
              HasSubstr("contexts[0] (name \"x\"): cluster \"gone\" is not defined"));

  auto noUser = parseKubeconfig(
      "current-context: x\nclusters:\n- name: c\n  cluster: {server: 'https://h'}\n"
      "contexts:\n- name: x\n  context: {cluster: c, user: gone}\n",
      "/k");
  ASSERT_FALSE(noUser.isOk());
  EXPECT_THAT(noUser.status().message(), HasSubstr("user \"gone\" is not defined"));
}

TEST(Kubeconfig, AnAuthProviderIsRefusedWithAPointerToExec) {
  auto config = parseKubeconfig(withUser("    auth-provider:\n      name: oidc\n"), "/k");
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(),
              HasSubstr("users[1] (name \"alice\"): auth-provider is not supported"));
  EXPECT_THAT(config.status().message(), HasSubstr("exec"));
}

TEST(Kubeconfig, ATokenFileIsReadAtLoadTimeAndItsPathKept) {
  TempDir dir;
  dir.write("token", "file-token\n");
  const std::string path = dir.write("config", withUser("    tokenFile: token\n"));
  auto config = loadKubeconfig(explicitFile(path));
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->bearerToken, "file-token");
  EXPECT_EQ(config->tokenFile, dir.file("token"));
}

TEST(Kubeconfig, AMissingTokenFileIsAnError) {
  auto config = parseKubeconfig(withUser("    tokenFile: /nonexistent/token\n"), "/k");
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(), HasSubstr("users[1] (name \"alice\"): tokenFile"));
}

TEST(Kubeconfig, AnExecPluginIsParsedWithItsCommandResolvedOnlyIfItHasASlash) {
  auto config = parseKubeconfig(withUser(R"(    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: bin/get-token
      args: [--cluster, dev]
      env:
      - {name: A, value: "1"}
      installHint: install get-token
      provideClusterInfo: true
)"),
                                "/home/u/.kube/config");
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  ASSERT_TRUE(config->exec.has_value());
  EXPECT_EQ(config->exec->command, "/home/u/.kube/bin/get-token");
  EXPECT_EQ(config->exec->args, (std::vector<std::string>{"--cluster", "dev"}));
  ASSERT_EQ(config->exec->env.size(), 1u);
  EXPECT_EQ(config->exec->env[0], (std::pair<std::string, std::string>{"A", "1"}));
  EXPECT_EQ(config->exec->installHint, "install get-token");
  EXPECT_TRUE(config->exec->provideClusterInfo);
  EXPECT_EQ(config->exec->interactiveMode, "IfAvailable");

  auto bare = parseKubeconfig(withUser("    exec: {apiVersion: client.authentication.k8s.io/"
                                       "v1beta1, command: gke-auth, interactiveMode: Never}\n"),
                              "/k");
  ASSERT_TRUE(bare.isOk()) << bare.status().toString();
  EXPECT_EQ(bare->exec->command, "gke-auth");
  EXPECT_EQ(bare->exec->interactiveMode, "Never");
}

TEST(Kubeconfig, AnExecPluginWithAnUnsupportedApiVersionIsRefused) {
  auto config = parseKubeconfig(
      withUser("    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}\n"),
      "/k");
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(), HasSubstr("exec.apiVersion"));
}

TEST(Kubeconfig, AWronglyTypedFieldSaysWhichFieldItIs) {
  auto config = parseKubeconfig(withUser("    token: [not, a, string]\n"), "/k");
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(),
              HasSubstr("users[1] (name \"alice\"): token must be a string"));
}

TEST(Kubeconfig, AnExplicitPathThatDoesNotExistIsAnError) {
  TempDir dir;
  auto config = loadKubeconfig(explicitFile(dir.file("missing")));
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(), HasSubstr(dir.file("missing")));
}

TEST(Kubeconfig, AnExplicitPathWinsOverKubeconfigAndHome) {
  TempDir dir;
  const std::string path = dir.write("explicit", kSingleFile);
  KubeconfigOptions options = explicitFile(path);
  options.kubeconfigEnv = dir.file("nothing-here");
  options.homeDir = dir.file("no-home");
  auto config = loadKubeconfig(options);
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->contextName, "dev");
}

TEST(Kubeconfig, WithoutExplicitPathOrKubeconfigTheHomeConfigIsRead) {
  TempDir dir;
  dir.write(".kube/config", kSingleFile);
  KubeconfigOptions options;
  options.homeDir = dir.path();
  auto config = loadKubeconfig(options);
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->source, "kubeconfig " + dir.file(".kube/config") + ", context dev");
}

TEST(Kubeconfig, AFileAboveTheSizeLimitIsRefused) {
  TempDir dir;
  const std::string path = dir.write("huge", "");
  std::filesystem::resize_file(path, limits::kMaxKubeconfigBytes + 1);
  auto config = loadKubeconfig(explicitFile(path));
  ASSERT_FALSE(config.isOk());
  EXPECT_EQ(config.status().code(), common::StatusCode::kResourceExhausted);
  EXPECT_THAT(config.status().message(), HasSubstr("above the limit"));
}

TEST(Kubeconfig, OptionsComeFromKubeconfigAndHome) {
  ::setenv("KUBECONFIG", "/a:/b", 1);
  KubeconfigOptions options = kubeconfigOptionsFromEnvironment();
  ::unsetenv("KUBECONFIG");
  EXPECT_EQ(options.kubeconfigEnv, "/a:/b");
  EXPECT_TRUE(options.explicitPath.empty());
  EXPECT_EQ(options.homeDir, std::getenv("HOME") ? std::getenv("HOME") : "");
}

// ---------------------------------------------------------------- KUBECONFIG merging

constexpr const char* kFirstFile = R"(
clusters:
- name: shared
  cluster: {server: 'https://first.example'}
users:
- name: shared-user
  user: {token: first-token}
contexts:
- name: shared-context
  context: {cluster: shared, user: shared-user, namespace: first-ns}
)";

constexpr const char* kSecondFile = R"(
current-context: shared-context
clusters:
- name: shared
  cluster: {server: 'https://second.example'}
- name: only-second
  cluster: {server: 'https://only-second.example'}
users:
- name: shared-user
  user: {token: second-token}
contexts:
- name: shared-context
  context: {cluster: only-second, user: shared-user, namespace: second-ns}
- name: second-only-context
  context: {cluster: only-second, user: shared-user}
)";

TEST(KubeconfigMerge, TheFirstFileToDefineANameWinsAndCurrentContextMayComeFromALaterFile) {
  TempDir dir;
  const std::string first = dir.write("first", kFirstFile);
  const std::string second = dir.write("second", kSecondFile);
  KubeconfigOptions options;
  options.kubeconfigEnv = first + ":" + second;
  auto config = loadKubeconfig(options);
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->contextName, "shared-context");
  EXPECT_EQ(config->server, "https://first.example");
  EXPECT_EQ(config->bearerToken, "first-token");
  EXPECT_EQ(config->defaultNamespace, "first-ns");
  EXPECT_EQ(config->source, "kubeconfig " + first + ", context shared-context");
}

TEST(KubeconfigMerge, TheFirstNonEmptyCurrentContextWins) {
  TempDir dir;
  const std::string first =
      dir.write("first", std::string(kFirstFile) + "current-context: second-only-context\n");
  const std::string second = dir.write("second", kSecondFile);
  KubeconfigOptions options;
  options.kubeconfigEnv = first + ":" + second;
  auto config = loadKubeconfig(options);
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->contextName, "second-only-context");
  EXPECT_EQ(config->server, "https://only-second.example");
  EXPECT_EQ(config->bearerToken, "first-token");
}

TEST(KubeconfigMerge, MissingFilesAndEmptyEntriesAreSkipped) {
  TempDir dir;
  const std::string second = dir.write("second", kSecondFile);
  KubeconfigOptions options;
  options.kubeconfigEnv = "::" + dir.file("missing") + "::" + second + ":";
  options.homeDir = dir.path();  // not used: KUBECONFIG is set
  auto config = loadKubeconfig(options);
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->server, "https://only-second.example");
  EXPECT_EQ(config->bearerToken, "second-token");
}

TEST(KubeconfigMerge, AtLeastOneFileMustExist) {
  TempDir dir;
  KubeconfigOptions options;
  options.kubeconfigEnv = dir.file("a") + ":" + dir.file("b");
  auto config = loadKubeconfig(options);
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(), HasSubstr("KUBECONFIG"));
}

TEST(KubeconfigMerge, AnErrorInALaterFileNamesThatFile) {
  TempDir dir;
  const std::string first = dir.write("first", kFirstFile);
  const std::string bad = dir.write("bad", "users: {not: a list}\n");
  KubeconfigOptions options;
  options.kubeconfigEnv = first + ":" + bad;
  auto config = loadKubeconfig(options);
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(), HasSubstr("kubeconfig " + bad + ": users must be a list"));
}

// ---------------------------------------------------------------- in-cluster

InClusterOptions inClusterFiles(const TempDir& dir) {
  InClusterOptions options;
  options.serviceHost = "10.96.0.1";
  options.servicePort = "443";
  options.tokenPath = dir.file("token");
  options.caPath = dir.file("ca.crt");
  options.namespacePath = dir.file("namespace");
  return options;
}

TEST(InCluster, ServerTokenCaAndNamespaceComeFromTheServiceAccount) {
  TempDir dir;
  dir.write("token", "sa-token\n");
  dir.write("ca.crt", "CLUSTER CA");
  dir.write("namespace", "operators\n");
  auto config = loadInCluster(inClusterFiles(dir));
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->bearerToken, "sa-token");
  EXPECT_EQ(config->tokenFile, dir.file("token"));
  EXPECT_EQ(config->caPem, "CLUSTER CA");
  EXPECT_EQ(config->defaultNamespace, "operators");
  EXPECT_TRUE(config->contextName.empty());
}

TEST(InCluster, AnIpv6ServiceHostIsBracketedAndANamespaceFileIsOptional) {
  TempDir dir;
  dir.write("token", "t");
  dir.write("ca.crt", "CA");
  InClusterOptions options = inClusterFiles(dir);
  options.serviceHost = "fd00::1";
  auto config = loadInCluster(options);
  ASSERT_TRUE(config.isOk()) << config.status().toString();
  EXPECT_EQ(config->server, "https://[fd00::1]:443");
  EXPECT_EQ(config->defaultNamespace, "default");
}

TEST(InCluster, WithoutServiceHostItSaysWeAreNotInACluster) {
  InClusterOptions options;
  options.servicePort = "443";
  auto config = loadInCluster(options);
  ASSERT_FALSE(config.isOk());
  EXPECT_EQ(config.status().message(),
            "not running in a cluster: KUBERNETES_SERVICE_HOST is not set");
}

TEST(InCluster, AMissingTokenIsAnError) {
  TempDir dir;
  dir.write("ca.crt", "CA");
  auto config = loadInCluster(inClusterFiles(dir));
  ASSERT_FALSE(config.isOk());
  EXPECT_THAT(config.status().message(), HasSubstr(dir.file("token")));
}

}  // namespace
}  // namespace wop::kube
