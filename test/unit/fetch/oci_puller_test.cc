#include "fetch/oci_puller.h"

#include <gtest/gtest.h>

namespace wop::fetch {
namespace {

std::string manifest(const std::string& layerType, uint64_t size = 8) {
  return R"({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.wasm.config.v0+json", "digest": "sha256:)" +
         std::string(64, 'c') + R"(", "size": 2},
    "layers": [{"mediaType": ")" +
         layerType + R"(", "digest": "sha256:)" + std::string(64, 'b') + R"(", "size": )" +
         std::to_string(size) + "}]}";
}

TEST(OciPullerTest, FindsTheWasmLayerOfEitherLayout) {
  for (const char* type : {"application/wasm", "application/vnd.wasm.content.layer.v1+wasm"}) {
    auto layer = wasmLayerOf(manifest(type), 1 << 20);
    ASSERT_TRUE(layer.isOk()) << type << ": " << layer.status().message();
    EXPECT_EQ(layer->layerDigest, "sha256:" + std::string(64, 'b'));
    EXPECT_EQ(layer->layerSize, 8u);
  }
}

TEST(OciPullerTest, RefusesWhatIsNotOneWasmLayerWithinTheLimit) {
  auto image = wasmLayerOf(manifest("application/vnd.oci.image.layer.v1.tar+gzip"), 1 << 20);
  ASSERT_FALSE(image.isOk());
  EXPECT_NE(image.status().message().find("not a Wasm artifact"), std::string::npos);
  EXPECT_NE(image.status().message().find("tar+gzip"), std::string::npos);

  auto large = wasmLayerOf(manifest("application/wasm", 65u << 20), 64u << 20);
  ASSERT_FALSE(large.isOk());
  EXPECT_EQ(large.status().code(), common::StatusCode::kResourceExhausted);

  auto index = wasmLayerOf(
      R"({"mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []})", 1 << 20);
  ASSERT_FALSE(index.isOk());
  EXPECT_NE(index.status().message().find("index"), std::string::npos);

  EXPECT_FALSE(wasmLayerOf("{", 1 << 20).isOk());
  EXPECT_FALSE(wasmLayerOf(R"({"layers": [{"mediaType": "application/wasm",
      "digest": "sha512:ab", "size": 1}]})",
                           1 << 20)
                   .isOk());
  EXPECT_FALSE(wasmLayerOf(R"({"layers": [{"mediaType": "application/wasm",
      "digest": "sha256:)" + std::string(64, 'b') +
                               R"(", "size": -1}]})",
                           1 << 20)
                   .isOk());
}

}  // namespace
}  // namespace wop::fetch
