#include "kube/credentials.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "kube/exec_credential.h"
#include "kube/temp_dir.h"

namespace wop::kube {
namespace {

using ::testing::HasSubstr;
using wop::testing::TempDir;
using namespace std::chrono_literals;

constexpr const char* kApiVersion = "client.authentication.k8s.io/v1";

common::WallTime at(const char* rfc3339) { return parseRfc3339(rfc3339).value(); }

// ---------------------------------------------------------------- static

TEST(StaticCredentialSource, ReturnsTheConfiguredTokenAndCertificate) {
  common::FakeClock clock;
  ClientConfig config;
  config.bearerToken = "t";
  config.clientCertPem = "CERT";
  config.clientKeyPem = "KEY";
  auto source = makeCredentialSource(config, clock);
  auto credentials = source->get();
  ASSERT_TRUE(credentials.isOk());
  EXPECT_EQ(credentials->bearerToken, "t");
  EXPECT_EQ(credentials->clientCertPem, "CERT");
  EXPECT_EQ(credentials->clientKeyPem, "KEY");
  source->invalidate();
  EXPECT_EQ(source->get()->bearerToken, "t");
}

// ---------------------------------------------------------------- token file

ClientConfig tokenFileConfig(const TempDir& dir, const std::string& initial) {
  ClientConfig config;
  config.tokenFile = dir.write("token", initial + "\n");
  config.bearerToken = initial;
  return config;
}

// Gives path the given mtime, so a rewrite can look unchanged to stat().
void setMtime(const std::string& path, const timespec& mtime) {
  const timespec times[2] = {mtime, mtime};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

timespec mtimeOf(const std::string& path) {
  struct stat info{};
  EXPECT_EQ(::stat(path.c_str(), &info), 0);
  return info.st_mtim;
}

TEST(TokenFileCredentialSource, ARewrittenFileIsReadAgainWhenItsSizeChanges) {
  TempDir dir;
  common::FakeClock clock;
  const ClientConfig config = tokenFileConfig(dir, "token-a");
  auto source = makeCredentialSource(config, clock);
  EXPECT_EQ(source->get()->bearerToken, "token-a");
  dir.write("token", "token-bb\n");
  EXPECT_EQ(source->get()->bearerToken, "token-bb");
}

TEST(TokenFileCredentialSource, AnUnchangedLookingFileIsReadAgainAfterAMinute) {
  TempDir dir;
  common::FakeClock clock;
  const ClientConfig config = tokenFileConfig(dir, "token-a");
  const timespec original = mtimeOf(config.tokenFile);
  auto source = makeCredentialSource(config, clock);
  EXPECT_EQ(source->get()->bearerToken, "token-a");

  dir.write("token", "token-b\n");  // same size
  setMtime(config.tokenFile, original);
  EXPECT_EQ(source->get()->bearerToken, "token-a");
  clock.advance(59s);
  EXPECT_EQ(source->get()->bearerToken, "token-a");
  clock.advance(2s);
  EXPECT_EQ(source->get()->bearerToken, "token-b");
}

TEST(TokenFileCredentialSource, InvalidateForcesARereadOfTheFile) {
  TempDir dir;
  common::FakeClock clock;
  const ClientConfig config = tokenFileConfig(dir, "token-a");
  const timespec original = mtimeOf(config.tokenFile);
  auto source = makeCredentialSource(config, clock);
  dir.write("token", "token-b\n");
  setMtime(config.tokenFile, original);
  source->invalidate();
  EXPECT_EQ(source->get()->bearerToken, "token-b");
}

TEST(TokenFileCredentialSource, TheLastGoodTokenIsKeptWhenTheFileDisappearsOrEmpties) {
  TempDir dir;
  common::FakeClock clock;
  const ClientConfig config = tokenFileConfig(dir, "token-a");
  auto source = makeCredentialSource(config, clock);
  dir.write("token", "");
  EXPECT_EQ(source->get()->bearerToken, "token-a");
  std::filesystem::remove(config.tokenFile);
  clock.advance(2min);
  EXPECT_EQ(source->get()->bearerToken, "token-a");
  dir.write("token", "token-c");
  EXPECT_EQ(source->get()->bearerToken, "token-c");
}

TEST(TokenFileCredentialSource, WithoutAnyTokenItSaysWhichFile) {
  TempDir dir;
  common::FakeClock clock;
  ClientConfig config;
  config.tokenFile = dir.file("absent");
  auto source = makeCredentialSource(config, clock);
  auto credentials = source->get();
  ASSERT_FALSE(credentials.isOk());
  EXPECT_THAT(credentials.status().message(), HasSubstr("token file " + dir.file("absent")));
}

// ---------------------------------------------------------------- exec plugin

// A plugin script that counts its runs in $DIR/count, saves KUBERNETES_EXEC_INFO to $DIR/info
// and prints statusJson as the ExecCredential status.
std::string writePlugin(const TempDir& dir, const std::string& statusJson,
                        const std::string& apiVersion = kApiVersion) {
  return dir.write("plugin.sh",
                   "#!/bin/sh\n"
                   "echo run >> \"$DIR/count\"\n"
                   "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$DIR/info\"\n"
                   "printf '%s' '{\"apiVersion\":\"" +
                       apiVersion + "\",\"kind\":\"ExecCredential\",\"status\":" + statusJson +
                       "}'\n",
                   0755);
}

ClientConfig execConfig(const TempDir& dir, const std::string& command) {
  ClientConfig config;
  config.server = "https://api.example:6443";
  config.caPem = "CLUSTER CA";
  ExecConfig exec;
  exec.apiVersion = kApiVersion;
  exec.command = command;
  exec.env = {{"DIR", dir.path()}};
  exec.interactiveMode = "Never";
  config.exec = exec;
  return config;
}

size_t runsOf(const TempDir& dir) {
  const std::string count = dir.read("count");
  return static_cast<size_t>(std::count(count.begin(), count.end(), '\n'));
}

TEST(ExecCredentialSource, ATokenIsCachedUntilItExpiresThenThePluginRunsAgain) {
  TempDir dir;
  const ClientConfig config = execConfig(
      dir,
      writePlugin(dir, R"({"token":"exec-token","expirationTimestamp":"2026-11-29T20:15:00Z"})"));
  common::FakeClock clock;
  clock.setWall(at("2026-11-29T20:00:00Z"));
  auto source = makeCredentialSource(config, clock);

  auto first = source->get();
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_EQ(first->bearerToken, "exec-token");
  clock.advance(14min);
  EXPECT_TRUE(source->get().isOk());
  EXPECT_EQ(runsOf(dir), 1u);

  clock.advance(1min);
  EXPECT_TRUE(source->get().isOk());
  EXPECT_EQ(runsOf(dir), 2u);
}

TEST(ExecCredentialSource, ACredentialWithoutExpiryIsCachedUntilInvalidated) {
  TempDir dir;
  const ClientConfig config = execConfig(dir, writePlugin(dir, R"({"token":"forever"})"));
  common::FakeClock clock;
  auto source = makeCredentialSource(config, clock);
  EXPECT_EQ(source->get()->bearerToken, "forever");
  clock.advance(24h * 365);
  EXPECT_EQ(source->get()->bearerToken, "forever");
  EXPECT_EQ(runsOf(dir), 1u);

  source->invalidate();
  EXPECT_EQ(source->get()->bearerToken, "forever");
  EXPECT_EQ(runsOf(dir), 2u);
}

TEST(ExecCredentialSource, AClientCertificateFromThePluginIsUsed) {
  TempDir dir;
  const ClientConfig config = execConfig(
      dir, writePlugin(dir, R"({"clientCertificateData":"CERT","clientKeyData":"KEY"})"));
  common::FakeClock clock;
  auto credentials = makeCredentialSource(config, clock)->get();
  ASSERT_TRUE(credentials.isOk()) << credentials.status().toString();
  EXPECT_EQ(credentials->clientCertPem, "CERT");
  EXPECT_EQ(credentials->clientKeyPem, "KEY");
  EXPECT_TRUE(credentials->bearerToken.empty());
}

TEST(ExecCredentialSource, ThePluginGetsExecInfoWithClusterDetailsWhenItAsksForThem) {
  TempDir dir;
  ClientConfig config = execConfig(dir, writePlugin(dir, R"({"token":"t"})"));
  config.exec->provideClusterInfo = true;
  config.tlsServerName = "api.internal";
  common::FakeClock clock;
  ASSERT_TRUE(makeCredentialSource(config, clock)->get().isOk());

  const auto info = nlohmann::json::parse(dir.read("info"), nullptr, false);
  ASSERT_FALSE(info.is_discarded()) << dir.read("info");
  EXPECT_EQ(info["apiVersion"], kApiVersion);
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["spec"]["interactive"], false);
  EXPECT_EQ(info["spec"]["cluster"]["server"], "https://api.example:6443");
  EXPECT_EQ(info["spec"]["cluster"]["tls-server-name"], "api.internal");
  EXPECT_EQ(info["spec"]["cluster"]["certificate-authority-data"],
            common::base64Encode("CLUSTER CA"));
}

TEST(ExecCredentialSource, ExecInfoHasNoClusterUnlessAskedFor) {
  TempDir dir;
  const ClientConfig config = execConfig(dir, writePlugin(dir, R"({"token":"t"})"));
  common::FakeClock clock;
  ASSERT_TRUE(makeCredentialSource(config, clock)->get().isOk());
  const auto info = nlohmann::json::parse(dir.read("info"), nullptr, false);
  ASSERT_TRUE(info.is_object());
  EXPECT_FALSE(info["spec"].contains("cluster"));
}

TEST(ExecCredentialSource, ANonZeroExitReportsTheCodeAndStderr) {
  TempDir dir;
  const std::string plugin = dir.write(
      "fail.sh", "#!/bin/sh\necho 'login required' >&2\necho 'run: get-token login' >&2\nexit 3\n",
      0755);
  common::FakeClock clock;
  auto credentials = makeCredentialSource(execConfig(dir, plugin), clock)->get();
  ASSERT_FALSE(credentials.isOk());
  EXPECT_THAT(credentials.status().message(), HasSubstr("exec credential plugin " + plugin));
  EXPECT_THAT(credentials.status().message(),
              HasSubstr("exited with code 3: login required\nrun: get-token login"));
}

TEST(ExecCredentialSource, AMissingCommandReportsTheInstallHint) {
  TempDir dir;
  ClientConfig config = execConfig(dir, dir.file("not-installed"));
  config.exec->installHint = "install it with: brew install get-token";
  common::FakeClock clock;
  auto credentials = makeCredentialSource(config, clock)->get();
  ASSERT_FALSE(credentials.isOk());
  EXPECT_THAT(credentials.status().message(), HasSubstr("cannot run"));
  EXPECT_THAT(credentials.status().message(), HasSubstr("brew install get-token"));
}

TEST(ExecCredentialSource, OutputThatIsNotJsonIsReported) {
  TempDir dir;
  const std::string plugin = dir.write("text.sh", "#!/bin/sh\necho 'here is your token'\n", 0755);
  common::FakeClock clock;
  auto credentials = makeCredentialSource(execConfig(dir, plugin), clock)->get();
  ASSERT_FALSE(credentials.isOk());
  EXPECT_THAT(credentials.status().message(),
              HasSubstr("output is not a valid ExecCredential: not JSON"));
}

TEST(ExecCredentialSource, AnotherApiVersionIsReported) {
  TempDir dir;
  const std::string plugin =
      writePlugin(dir, R"({"token":"t"})", "client.authentication.k8s.io/v1beta1");
  common::FakeClock clock;
  auto credentials = makeCredentialSource(execConfig(dir, plugin), clock)->get();
  ASSERT_FALSE(credentials.isOk());
  EXPECT_THAT(credentials.status().message(),
              HasSubstr("apiVersion is \"client.authentication.k8s.io/v1beta1\", expected "
                        "\"client.authentication.k8s.io/v1\""));
}

TEST(ExecCredentialSource, AFailedRunIsNotCachedSoTheNextGetRetries) {
  TempDir dir;
  const std::string plugin =
      dir.write("flaky.sh",
                "#!/bin/sh\n"
                "echo run >> \"$DIR/count\"\n"
                "[ \"$(wc -l < \"$DIR/count\")\" -ge 2 ] || exit 1\n"
                "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\","
                "\"kind\":\"ExecCredential\",\"status\":{\"token\":\"ok\"}}'\n",
                0755);
  common::FakeClock clock;
  auto source = makeCredentialSource(execConfig(dir, plugin), clock);
  EXPECT_FALSE(source->get().isOk());
  EXPECT_EQ(source->get()->bearerToken, "ok");
}

// ---------------------------------------------------------------- ExecCredential parsing

TEST(ExecCredential, StatusNeedsATokenOrACertificateAndKey) {
  auto none = parseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}})",
      kApiVersion);
  ASSERT_FALSE(none.isOk());
  EXPECT_THAT(none.status().message(), HasSubstr("neither token nor"));

  auto certOnly = parseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
      R"("status":{"clientCertificateData":"C"}})",
      kApiVersion);
  ASSERT_FALSE(certOnly.isOk());
  EXPECT_THAT(certOnly.status().message(), HasSubstr("only one of"));
}

TEST(ExecCredential, KindAndTypesAreChecked) {
  auto kind = parseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"Secret","status":{"token":"t"}})",
      kApiVersion);
  ASSERT_FALSE(kind.isOk());
  EXPECT_THAT(kind.status().message(), HasSubstr("kind is \"Secret\""));

  auto tokenType = parseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
      R"("status":{"token":42}})",
      kApiVersion);
  ASSERT_FALSE(tokenType.isOk());
  EXPECT_THAT(tokenType.status().message(), HasSubstr("status.token is not a string"));

  auto timestamp = parseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",)"
      R"("status":{"token":"t","expirationTimestamp":"tomorrow"}})",
      kApiVersion);
  ASSERT_FALSE(timestamp.isOk());
  EXPECT_THAT(timestamp.status().message(), HasSubstr("\"tomorrow\" is not RFC 3339"));
}

TEST(ExecCredential, Rfc3339TimestampsWithOffsetsAndFractionsAreParsed) {
  const auto utc = parseRfc3339("2026-11-29T20:15:00Z");
  ASSERT_TRUE(utc.has_value());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(utc->time_since_epoch()).count(),
            1795983300);
  EXPECT_EQ(parseRfc3339("2026-11-29T21:15:00+01:00"), utc);
  EXPECT_EQ(parseRfc3339("2026-11-29T19:15:00.000-01:00"), utc);
  EXPECT_EQ(*parseRfc3339("2026-11-29T20:15:00.5Z") - *utc, std::chrono::milliseconds(500));
  EXPECT_EQ(parseRfc3339("2026-11-29 20:15:00Z"), std::nullopt);
  EXPECT_EQ(parseRfc3339("2026-13-29T20:15:00Z"), std::nullopt);
  EXPECT_EQ(parseRfc3339("2026-11-29T20:15:00"), std::nullopt);
  EXPECT_EQ(parseRfc3339("2026-11-29T20:15:00Zjunk"), std::nullopt);
  EXPECT_EQ(parseRfc3339(""), std::nullopt);
}

}  // namespace
}  // namespace wop::kube
