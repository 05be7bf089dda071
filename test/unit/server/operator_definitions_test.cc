#include "server/operator_definitions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace wop::server {
namespace {

using ::testing::HasSubstr;

TEST(OperatorDefinitions, ReadsEveryDocumentWithPathsRelativeToTheFile) {
  auto specs = parseOperatorDefinitions(R"(
apiVersion: wasm-operator.dev/v1alpha1
kind: WasmOperator
metadata: {name: ring-0}
spec:
  module: ../wasm/ring.wasm
  serviceAccount: wasm-operators/ring-0
  config: {inputNamespace: ring-0, outputNamespace: ring-1, copies: 2, quoted: "2"}
  limits: {memoryMiB: 16, entryTimeoutMs: 250}
---
apiVersion: wasm-operator.dev/v1alpha1
kind: WasmOperator
metadata: {name: plain}
spec: {module: /abs/op.wasm}
)",
                                        "/etc/ops/operators.yaml");
  ASSERT_TRUE(specs) << specs.status().toString();
  ASSERT_EQ(specs->size(), 2u);
  const auto& ring = (*specs)[0];
  EXPECT_EQ(ring.name, "ring-0");
  EXPECT_EQ(ring.modulePath, "/etc/wasm/ring.wasm");
  EXPECT_EQ(ring.serviceAccountNamespace, "wasm-operators");
  EXPECT_EQ(ring.serviceAccountName, "ring-0");
  auto config = nlohmann::json::parse(ring.configJson);
  EXPECT_EQ(config["outputNamespace"], "ring-1");
  EXPECT_EQ(config["copies"], 2);
  EXPECT_EQ(config["quoted"], "2");
  EXPECT_EQ(ring.maxMemoryBytes, 16u << 20);
  EXPECT_EQ(ring.entryTimeout, std::chrono::milliseconds(250));
  EXPECT_EQ((*specs)[1].modulePath, "/abs/op.wasm");
  EXPECT_TRUE((*specs)[1].serviceAccountName.empty());
}

TEST(OperatorDefinitions, ErrorsNameFileDocumentAndField) {
  auto bad =
      parseOperatorDefinitions("kind: WasmOperator\nmetadata: {name: x}\nspec: {}\n", "/f.yaml");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.status().message(),
              HasSubstr("/f.yaml: document 1 (x): spec.module is required"));

  auto account = parseOperatorDefinitions(
      "kind: WasmOperator\nmetadata: {name: x}\nspec: {module: a.wasm, serviceAccount: justname}\n",
      "/f.yaml");
  EXPECT_THAT(account.status().message(), HasSubstr("namespace/name"));

  auto limits = parseOperatorDefinitions(
      "kind: WasmOperator\nmetadata: {name: x}\nspec: {module: a.wasm, limits: {memoryMiB: 0}}\n",
      "/f.yaml");
  EXPECT_THAT(limits.status().message(), HasSubstr("memoryMiB"));

  auto yaml = parseOperatorDefinitions("kind: [unclosed\n", "/broken.yaml");
  ASSERT_FALSE(yaml);
  EXPECT_THAT(yaml.status().message(), HasSubstr("/broken.yaml: not valid YAML: line 2"));

  // yaml-cpp 0.7.0 looped forever on this (found by the fuzzer); libyaml refuses it.
  auto tiny = parseOperatorDefinitions(",!", "/tiny.yaml");
  ASSERT_FALSE(tiny);
  EXPECT_THAT(tiny.status().message(), HasSubstr("/tiny.yaml: not valid YAML"));

  auto kind = parseOperatorDefinitions("kind: Deployment\n", "/f.yaml");
  EXPECT_THAT(kind.status().message(), HasSubstr("kind must be WasmOperator"));
}

}  // namespace
}  // namespace wop::server
