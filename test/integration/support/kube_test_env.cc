#include "support/kube_test_env.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "common/file.h"
#include "common/yaml.h"
#include "kube/discovery.h"
#include "kube/kubeconfig.h"
#include "support/test_kube_client.h"

namespace wop::testing {

const kube::ResourceInfo kConfigMaps{{"", "v1", "configmaps"}, "ConfigMap", true};
const kube::ResourceInfo kSecrets{{"", "v1", "secrets"}, "Secret", true};
const kube::ResourceInfo kNamespaces{{"", "v1", "namespaces"}, "Namespace", false};
const kube::ResourceInfo kDeployments{{"apps", "v1", "deployments"}, "Deployment", true};

std::unique_ptr<kube::Client> adminClient(kube::ClientOptions options) {
  kube::KubeconfigOptions kubeconfig;
  kubeconfig.explicitPath = testenvDir() + "/kubeconfig";
  auto config = kube::loadKubeconfig(kubeconfig);
  EXPECT_TRUE(config) << config.status().toString();
  if (!config) return nullptr;
  return std::make_unique<kube::Client>(*config, options);
}

void ensureNamespace(kube::Client& client, const std::string& name) {
  nlohmann::json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
  auto created = client.create(kNamespaces, "", ns.dump());
  if (!created) {
    ASSERT_EQ(created.error().reason, kube::ApiReason::kAlreadyExists)
        << created.error().toString();
  }
}

void removeIfPresent(kube::Client& client, const kube::ResourceInfo& resource,
                     const std::string& ns, const std::string& name) {
  auto removed = client.remove(resource, ns, name, {.gracePeriodSeconds = 0});
  if (!removed) {
    ASSERT_EQ(removed.error().reason, kube::ApiReason::kNotFound) << removed.error().toString();
    return;
  }
  ASSERT_TRUE(eventually([&] {
    auto got = client.get(resource, ns, name);
    return !got && got.error().reason == kube::ApiReason::kNotFound;
  })) << ns
      << "/" << name << " not deleted";
}

void applyManifests(kube::Client& client, const std::string& path) {
  auto bytes = common::readFileBytes(path, 1 << 20);
  ASSERT_TRUE(bytes) << bytes.status().toString();
  auto documents = common::parseYamlDocuments(std::string(bytes->begin(), bytes->end()), path);
  ASSERT_TRUE(documents) << documents.status().toString();
  for (const auto& document : *documents) {
    auto resource = client.discovery().forKind(document["apiVersion"], document["kind"]);
    ASSERT_TRUE(resource) << resource.error().toString();
    const std::string ns = document["metadata"].value("namespace", "");
    auto created = client.create(*resource, ns, document.dump());
    if (!created)
      ASSERT_EQ(created.error().reason, kube::ApiReason::kAlreadyExists)
          << created.error().toString();
    if (document["kind"] == "CustomResourceDefinition") {
      const std::string name = document["metadata"]["name"];
      ASSERT_TRUE(eventually([&] {
        auto crd = client.get(*resource, "", name);
        if (!crd) return false;
        for (const auto& c :
             parseJson(*crd)["status"].value("conditions", nlohmann::json::array())) {
          if (c.value("type", "") == "Established" && c.value("status", "") == "True") return true;
        }
        return false;
      })) << name
          << " not Established";
    }
  }
}

int controlPlane(const std::string& command) {
  const std::string line = "python3 " + std::string(WOP_SOURCE_DIR) + "/testenv/controlplane.py " +
                           command + " --dir " + testenvDir();
  return std::system(line.c_str());
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

nlohmann::json parseJson(const std::string& text) {
  return nlohmann::json::parse(text, nullptr, false);
}

}  // namespace wop::testing
