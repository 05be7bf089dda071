#include "fetch/module_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/sha256.h"

namespace wop::fetch {
namespace {

class ModuleStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ =
        std::filesystem::temp_directory_path() / ("wop-module-store-" + std::to_string(::getpid()));
    std::filesystem::remove_all(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }
  std::filesystem::path directory_;
};

TEST_F(ModuleStoreTest, KeepsModulesByDigestInAPrivateFolder) {
  ModuleStore store(directory_.string());
  struct stat info{};
  ASSERT_EQ(::stat(directory_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  const std::string bytes = "\0asm\1\0\0\0";
  const std::string digest = common::sha256Hex(bytes);
  EXPECT_FALSE(store.find(digest));
  auto path = store.put({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  ASSERT_TRUE(path.isOk());
  ASSERT_TRUE(store.find(digest));
  EXPECT_EQ(*store.find(digest), *path);
}

TEST_F(ModuleStoreTest, DoesNotTrustAFileWhoseBytesChanged) {
  ModuleStore store(directory_.string());
  const std::string bytes = "module";
  auto path = store.put({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  ASSERT_TRUE(path.isOk());
  std::ofstream(*path, std::ios::trunc) << "tampered";
  EXPECT_FALSE(store.find(common::sha256Hex(bytes)));
  EXPECT_FALSE(store.find("../../etc/passwd"));
}

TEST_F(ModuleStoreTest, RemembersWhatAManifestHeld) {
  ModuleStore store(directory_.string());
  const std::string manifest(64, 'a');
  const std::string module(64, 'b');
  EXPECT_FALSE(store.moduleOfManifest(manifest));
  ASSERT_TRUE(store.rememberManifest(manifest, module).isOk());
  EXPECT_EQ(store.moduleOfManifest(manifest), module);
  EXPECT_FALSE(store.rememberManifest("../x", module).isOk());
}

}  // namespace
}  // namespace wop::fetch
