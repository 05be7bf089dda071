// Helpers for integration tests of the Kubernetes client and cache against the control plane
// of the CTest fixture (WOP_TESTENV_DIR).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "kube/client.h"

namespace wop::testing {

// A client for the fixture's admin kubeconfig; qps 0 by default so setup loops run at full speed.
std::unique_ptr<kube::Client> adminClient(kube::ClientOptions options = {.qps = 0});

// Creates the namespace if it does not exist (and waits until it is not terminating).
void ensureNamespace(kube::Client& client, const std::string& name);

// Deletes the object if it exists (leftovers of an earlier run on this control plane) and
// waits until it is gone.
void removeIfPresent(kube::Client& client, const kube::ResourceInfo& resource,
                     const std::string& ns, const std::string& name);

// Creates every object of a YAML manifest (already existing ones are left as they are); waits
// for CRDs to be Established.
void applyManifests(kube::Client& client, const std::string& path);

// Runs `testenv/controlplane.py <command> --dir WOP_TESTENV_DIR`; returns its exit code.
int controlPlane(const std::string& command);

// Polls condition every 20 ms until it holds or timeout passes; returns whether it held.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(30));

nlohmann::json parseJson(const std::string& text);

extern const kube::ResourceInfo kConfigMaps;
extern const kube::ResourceInfo kSecrets;
extern const kube::ResourceInfo kNamespaces;
extern const kube::ResourceInfo kDeployments;

}  // namespace wop::testing
