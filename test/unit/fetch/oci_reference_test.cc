#include "fetch/oci_reference.h"

#include <gtest/gtest.h>

#include <vector>

namespace wop::fetch {
namespace {

TEST(OciReferenceTest, ReadsRegistryRepositoryTagAndDigest) {
  const std::string digest = "sha256:" + std::string(64, 'a');
  auto full = parseOciReference("127.0.0.1:5000/ops/ring:v1@" + digest);
  ASSERT_TRUE(full.isOk()) << full.status().message();
  EXPECT_EQ(full->registry, "127.0.0.1:5000");
  EXPECT_EQ(full->repository, "ops/ring");
  EXPECT_EQ(full->tag, "v1");
  EXPECT_EQ(full->digest, digest);
  EXPECT_EQ(full->toString(), "127.0.0.1:5000/ops/ring:v1@" + digest);
  EXPECT_EQ(full->pinnedTo(digest), "127.0.0.1:5000/ops/ring@" + digest);

  auto hub = parseOciReference("ring");
  ASSERT_TRUE(hub.isOk());
  EXPECT_EQ(hub->registry, "docker.io");
  EXPECT_EQ(hub->apiHost(), "registry-1.docker.io");
  EXPECT_EQ(hub->repository, "library/ring");
  EXPECT_EQ(hub->tag, "latest");

  auto local = parseOciReference("localhost/a/b/c");
  ASSERT_TRUE(local.isOk());
  EXPECT_EQ(local->registry, "localhost");
  EXPECT_EQ(local->repository, "a/b/c");

  auto ghcr = parseOciReference("ghcr.io/kubewarden/policies/safe-labels:v0.1.7");
  ASSERT_TRUE(ghcr.isOk());
  EXPECT_EQ(ghcr->apiHost(), "ghcr.io");
  EXPECT_EQ(ghcr->repository, "kubewarden/policies/safe-labels");
}

TEST(OciReferenceTest, RefusesWhatCouldReachAUrlUnchecked) {
  for (const std::string& bad : std::vector<std::string>{
           "", "Ring", "ops/../ring", "ops//ring", "host:5000/ring:", "host:5000/ring:-x",
           "host:99999999/ring", "ring@sha256:abc", "ring@md5:" + std::string(32, 'a'),
           "evil.io/ring?x=1", "evil.io/ring#frag", "evil.io/ri ng", "exa_mple.io/ring",
           "ring:" + std::string(129, 'a'), std::string(2000, 'a')}) {
    auto parsed = parseOciReference(bad);
    EXPECT_FALSE(parsed.isOk()) << bad;
    if (!parsed.isOk()) EXPECT_NE(parsed.status().message().find("image"), std::string::npos);
  }
}

}  // namespace
}  // namespace wop::fetch
