#include "fetch/registry_auth.h"

#include <gtest/gtest.h>

#include "common/base64.h"

namespace wop::fetch {
namespace {

TEST(RegistryAuthTest, FindsTheEntryOfTheRegistryInEitherFormat) {
  const std::string auth = common::base64Encode("robot:s3cret:with-colon");
  const std::string config = R"({"auths": {"other.io": {"auth": "eDp5"},
      "https://127.0.0.1:5000/v2/": {"auth": ")" +
                             auth + R"("}}})";
  auto found = credentialsFor(config, "127.0.0.1:5000");
  ASSERT_TRUE(found.isOk());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->username, "robot");
  EXPECT_EQ((*found)->password, "s3cret:with-colon");

  auto legacy = credentialsFor(
      R"({"https://index.docker.io/v1/": {"username": "u", "password": "p"}})", "docker.io");
  ASSERT_TRUE(legacy.isOk());
  ASSERT_TRUE(legacy->has_value());
  EXPECT_EQ((*legacy)->username, "u");

  auto none = credentialsFor(config, "ghcr.io");
  ASSERT_TRUE(none.isOk());
  EXPECT_FALSE(none->has_value());
}

TEST(RegistryAuthTest, RefusesConfigsThatAreNotDockerConfigs) {
  EXPECT_FALSE(credentialsFor("not json", "a.io").isOk());
  EXPECT_FALSE(credentialsFor("[1]", "a.io").isOk());
  EXPECT_FALSE(credentialsFor(R"({"auths": {"a.io": {"auth": "!!!"}}})", "a.io").isOk());
  EXPECT_FALSE(credentialsFor(R"({"auths": {"a.io": {"auth": "bm9jb2xvbg=="}}})", "a.io").isOk());
}

TEST(RegistryAuthTest, ParsesBasicAndBearerChallenges) {
  auto basic = parseAuthChallenge(R"(Basic realm="wop-test-registry")");
  ASSERT_TRUE(basic.isOk());
  EXPECT_EQ(basic->scheme, "basic");
  EXPECT_EQ(basic->params["realm"], "wop-test-registry");

  auto bearer = parseAuthChallenge(
      R"(Bearer realm="https://auth.io/token",service="registry.io",scope="repository:a/b:pull")");
  ASSERT_TRUE(bearer.isOk());
  EXPECT_EQ(bearer->scheme, "bearer");
  EXPECT_EQ(bearer->params["realm"], "https://auth.io/token");
  EXPECT_EQ(bearer->params["service"], "registry.io");
  EXPECT_EQ(bearer->params["scope"], "repository:a/b:pull");

  EXPECT_FALSE(parseAuthChallenge("").isOk());
  auto unterminated = parseAuthChallenge(R"(Bearer realm="https://x)");
  ASSERT_TRUE(unterminated.isOk());  // read as far as it goes, never past the end
  EXPECT_EQ(unterminated->params["realm"], "https://x");
}

}  // namespace
}  // namespace wop::fetch
