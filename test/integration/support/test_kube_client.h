// A deliberately small HTTPS client for integration tests of the foundation: it reads a
// kubeconfig written by testenv/controlplane.py (file paths for CA, client cert and key)
// and sends JSON requests with libcurl. The real client lives in host/src/kube.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace wop::testing {

struct HttpResponse {
  long status = 0;
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

class TestKubeClient {
 public:
  // Loads the kubeconfig at path (its current context). Fails the test on a bad config.
  explicit TestKubeClient(const std::string& kubeconfigPath);

  HttpResponse get(const std::string& path);
  HttpResponse post(const std::string& path, const nlohmann::json& body);
  HttpResponse del(const std::string& path);
  // Sends with Impersonate-User, as the runtime will for each operator's ServiceAccount.
  HttpResponse getAs(const std::string& user, const std::string& path);

 private:
  HttpResponse send(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& impersonate);

  std::string server_, caFile_, certFile_, keyFile_;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl_{curl_easy_init(), curl_easy_cleanup};
};

// Reads a YAML file (a manifest) and returns it as JSON, the wire format.
nlohmann::json loadYamlAsJson(const std::string& path);

// The folder of the control plane started by the CTest fixture (WOP_TESTENV_DIR).
std::string testenvDir();

}  // namespace wop::testing
