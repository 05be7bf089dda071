// The hostile guests of test/guests/hostile are WAT files the host's tests compile; this only
// checks they stay valid and export the ABI, so a host test never fails for a broken fixture.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <wasmtime.hh>

namespace {

std::filesystem::path hostileDir() {
  // Not __FILE__: the compiler cache makes it relative to the build (CMakeLists.txt).
  return std::filesystem::path(WOP_SOURCE_DIR) / "test" / "guests" / "hostile";
}

std::set<std::string> exportsOf(const wasmtime::Module& module) {
  std::set<std::string> names;
  for (const auto& exported : module.exports()) names.emplace(exported.name());
  return names;
}

TEST(SdkHostileGuests, EachCompilesAndExportsTheAbi) {
  wasmtime::Engine engine;
  const char* guests[] = {"spin_reconcile", "spin_init", "grow_memory", "bad_pointers",
                          "huge_length",    "trap",      "wrong_abi"};
  for (const char* guest : guests) {
    SCOPED_TRACE(guest);
    std::ifstream file(hostileDir() / (std::string(guest) + ".wat"));
    ASSERT_TRUE(file) << "missing " << guest << ".wat";
    std::stringstream text;
    text << file.rdbuf();
    auto module = wasmtime::Module::compile(engine, text.str());
    ASSERT_TRUE(module) << module.err().message();
    auto exports = exportsOf(module.ok());
    for (const char* name :
         {"memory", "wop_alloc", "wop_init", "wop_reconcile", "wop_on_complete"}) {
      EXPECT_TRUE(exports.count(name)) << name;
    }
    bool wrongAbi = std::string(guest) == "wrong_abi";
    EXPECT_EQ(exports.count("wop_abi_version_1"), wrongAbi ? 0u : 1u);
    EXPECT_EQ(exports.count("wop_abi_version_99"), wrongAbi ? 1u : 0u);
    for (const auto& imported : module.ok().imports()) {
      EXPECT_EQ(imported.module(), "wop") << imported.name();
    }
  }
}

}  // namespace
