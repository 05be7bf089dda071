#include "server/operator_definitions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/yaml.h"

namespace wop::server {
namespace {

using ::testing::HasSubstr;

TEST(OperatorDefinitions, ReadsEveryDocumentWithPathsRelativeToTheFile) {
  auto specs = parseOperatorDefinitions(R"(
apiVersion: wasm-operator.dev/v1alpha1
kind: WasmOperator
metadata: {name: ring-0}
spec:
  module: {path: ../wasm/ring.wasm, sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef}
  serviceAccount: {namespace: wasm-operators, name: ring-0}
  config: {inputNamespace: ring-0, outputNamespace: ring-1, copies: 2, quoted: "2"}
  limits: {memoryMiB: 16, entryTimeoutMs: 250}
---
apiVersion: wasm-operator.dev/v1alpha1
kind: WasmOperator
metadata: {name: plain}
spec: {module: {path: /abs/op.wasm}, trusted: true}
)",
                                        "/etc/ops/operators.yaml");
  ASSERT_TRUE(specs) << specs.status().toString();
  ASSERT_EQ(specs->size(), 2u);
  const auto& ring = (*specs)[0];
  EXPECT_EQ(ring.name, "ring-0");
  EXPECT_EQ(ring.modulePath, "/etc/wasm/ring.wasm");
  EXPECT_EQ(ring.serviceAccountNamespace, "wasm-operators");
  EXPECT_EQ(ring.serviceAccountName, "ring-0");
  EXPECT_FALSE(ring.trusted);
  EXPECT_EQ(ring.moduleSha256, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  auto config = nlohmann::json::parse(ring.configJson);
  EXPECT_EQ(config["outputNamespace"], "ring-1");
  EXPECT_EQ(config["copies"], 2);
  EXPECT_EQ(config["quoted"], "2");
  EXPECT_EQ(ring.maxMemoryBytes, 16u << 20);
  EXPECT_EQ(ring.entryTimeout, std::chrono::milliseconds(250));
  EXPECT_EQ((*specs)[1].modulePath, "/abs/op.wasm");
  EXPECT_TRUE((*specs)[1].serviceAccountName.empty());
  EXPECT_TRUE((*specs)[1].trusted);
  EXPECT_TRUE((*specs)[1].moduleSha256.empty());
}

// What the CRD's schema and rules refuse (deploy/crds/wasmoperators.yaml), the file mode
// refuses too, with the same words; and what only the controller will fetch it says it cannot.
TEST(OperatorDefinitions, RefusesWhatTheCrdRefuses) {
  auto refusal = [](const std::string& spec) {
    auto parsed = parseOperatorDefinitions(
        "kind: WasmOperator\nmetadata: {name: x}\nspec: " + spec + "\n", "/f.yaml");
    return parsed ? std::string("accepted") : parsed.status().message();
  };
  const std::string sa = "serviceAccount: {namespace: ops, name: op}";
  EXPECT_THAT(refusal("{module: a.wasm, " + sa + "}"), HasSubstr("spec.module must be a mapping"));
  EXPECT_THAT(refusal("{module: {}, " + sa + "}"),
              HasSubstr("exactly one of image, configMapRef, url or path"));
  EXPECT_THAT(refusal("{module: {path: a.wasm, image: r.test/m:1}, " + sa + "}"),
              HasSubstr("exactly one of image, configMapRef, url or path"));
  EXPECT_THAT(refusal("{module: {path: a.wasm, sha256: XYZ}, " + sa + "}"),
              HasSubstr("spec.module.sha256 must be 64 lower-case hex digits"));
  EXPECT_THAT(refusal("{module: {image: r.test/m:1}, " + sa + "}"),
              HasSubstr("the file mode runs modules from paths only"));
  EXPECT_THAT(refusal("{module: {image: r.test/M:1}, " + sa + "}"),
              HasSubstr("the repository must be lower-case"));
  EXPECT_THAT(refusal("{module: {url: http://r.test/m.wasm, sha256: " + std::string(64, 'a') +
                      "}, " + sa + "}"),
              HasSubstr("spec.module.url must be an https:// address"));
  EXPECT_THAT(refusal("{module: {url: https://r.test/m.wasm}, " + sa + "}"),
              HasSubstr("a module from a url needs its sha256"));
  EXPECT_THAT(refusal("{module: {configMapRef: {name: m, key: k}}, " + sa + "}"),
              HasSubstr("configMapRef must be {namespace: NS, name: N, key: K}"));
  EXPECT_THAT(refusal("{module: {path: a.wasm}}"),
              HasSubstr("spec.serviceAccount is required unless spec.trusted is true"));
  EXPECT_THAT(refusal("{module: {path: a.wasm}, trusted: true, " + sa + "}"),
              HasSubstr("a trusted operator acts as the host"));
  EXPECT_THAT(refusal("{module: {path: a.wasm}, serviceAccount: ops/op}"),
              HasSubstr("spec.serviceAccount must be {namespace: NS, name: NAME}"));
  EXPECT_THAT(refusal("{module: {path: a.wasm}, trusted: yes please}"),
              HasSubstr("spec.trusted must be true or false"));
  EXPECT_EQ(refusal("{module: {path: a.wasm}, " + sa + "}"), "accepted");
}

// The controller's reading of each remote source (the file mode refuses them).
TEST(OperatorDefinitions, AllowedHostsAreReadAndCheckedAndNoneByDefault) {
  auto specs = parseOperatorDefinitions(R"(
apiVersion: wasm-operator.dev/v1alpha1
kind: WasmOperator
metadata: {name: dns}
spec:
  module: {path: dns.wasm}
  trusted: true
  allowedHosts: ["https://api.example.com", "https://*.example.com:8443", "https://[::1]:*"]
---
apiVersion: wasm-operator.dev/v1alpha1
kind: WasmOperator
metadata: {name: quiet}
spec: {module: {path: quiet.wasm}, trusted: true}
)",
                                        "/etc/ops/operators.yaml");
  ASSERT_TRUE(specs) << specs.status().toString();
  EXPECT_EQ((*specs)[0].allowedHosts,
            (std::vector<std::string>{"https://api.example.com", "https://*.example.com:8443",
                                      "https://[::1]:*"}));
  EXPECT_TRUE((*specs)[1].allowedHosts.empty());

  for (const char* hosts :
       {"https://api.example.com", "[5]", "[\"http://api.example.com\"]", "[\"https://*\"]",
        "[\"https://a.example.com/path\"]", "[\"https://u@a.example.com\"]"}) {
    auto refused = parseOperatorDefinitions(
        std::string("kind: WasmOperator\nmetadata: {name: dns}\nspec: {module: {path: x.wasm}, "
                    "trusted: true, allowedHosts: ") +
            hosts + "}\n",
        "/etc/ops/operators.yaml");
    ASSERT_FALSE(refused) << hosts;
    EXPECT_THAT(refused.status().message(), HasSubstr("spec.allowedHosts")) << hosts;
  }
}

TEST(OperatorDefinitions, ReadsEachModuleSource) {
  auto read = [](const std::string& module) {
    auto doc = common::parseYamlDocuments(
        "kind: WasmOperator\nmetadata: {name: x}\nspec: {module: " + module +
            ", serviceAccount: {namespace: ops, name: op}}\n",
        "/f.yaml");
    EXPECT_TRUE(doc.isOk());
    auto definition = parseWasmOperator((*doc)[0], "here", "/defs");
    EXPECT_TRUE(definition.isOk()) << definition.status().message();
    return definition.isOk() ? definition->module : fetch::ModuleSource{};
  };
  const std::string pin(64, 'e');
  auto image = read(
      "{image: 'r.test:5000/ops/m:v2', imagePullSecrets: [{name: pull}], sha256: " + pin + "}");
  EXPECT_EQ(image.image, "r.test:5000/ops/m:v2");
  EXPECT_EQ(image.imagePullSecrets, std::vector<std::string>{"pull"});
  EXPECT_EQ(image.sha256, pin);
  EXPECT_EQ(image.describe(), "image r.test:5000/ops/m:v2");
  auto configMap = read("{configMapRef: {namespace: ops, name: mods, key: ring.wasm}}");
  EXPECT_EQ(configMap.describe(), "configMap ops/mods key ring.wasm");
  auto url = read("{url: 'https://r.test/m.wasm', sha256: " + pin + "}");
  EXPECT_EQ(url.url, "https://r.test/m.wasm");
  auto path = read("{path: m.wasm}");
  EXPECT_EQ(path.path, "/defs/m.wasm");
}

TEST(OperatorDefinitions, ErrorsNameFileDocumentAndField) {
  auto bad =
      parseOperatorDefinitions("kind: WasmOperator\nmetadata: {name: x}\nspec: {}\n", "/f.yaml");
  ASSERT_FALSE(bad);
  EXPECT_THAT(bad.status().message(),
              HasSubstr("/f.yaml: document 1 (x): spec.module is required"));

  auto limits = parseOperatorDefinitions(
      "kind: WasmOperator\nmetadata: {name: x}\nspec: {module: {path: a.wasm}, trusted: true, "
      "limits: {memoryMiB: 0}}\n",
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
