#include "test_kube_client.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "common/yaml.h"

namespace wop::testing {
namespace {

size_t appendToString(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The named entry's body ("cluster", "user", "context") of a kubeconfig list.
nlohmann::json entry(const nlohmann::json& config, const char* list, const char* body,
                     const std::string& name) {
  for (const auto& item : config[list]) {
    if (item["name"] == name) return item[body];
  }
  ADD_FAILURE() << "kubeconfig has no " << list << " entry " << name;
  return nlohmann::json::object();
}

}  // namespace

TestKubeClient::TestKubeClient(const std::string& kubeconfigPath) {
  auto documents = common::parseYamlDocuments(readFile(kubeconfigPath), kubeconfigPath);
  if (!documents || documents->empty()) {
    ADD_FAILURE() << "cannot read " << kubeconfigPath;
    return;
  }
  const auto& config = documents->front();
  const auto context = entry(config, "contexts", "context", config["current-context"]);
  const auto cluster = entry(config, "clusters", "cluster", context["cluster"]);
  const auto user = entry(config, "users", "user", context["user"]);
  server_ = cluster["server"];
  caFile_ = cluster["certificate-authority"];
  certFile_ = user["client-certificate"];
  keyFile_ = user["client-key"];
}

HttpResponse TestKubeClient::get(const std::string& path) { return send("GET", path, "", ""); }
HttpResponse TestKubeClient::post(const std::string& path, const nlohmann::json& body) {
  return send("POST", path, body.dump(), "");
}
HttpResponse TestKubeClient::del(const std::string& path) { return send("DELETE", path, "", ""); }
HttpResponse TestKubeClient::getAs(const std::string& user, const std::string& path) {
  return send("GET", path, "", user);
}

HttpResponse TestKubeClient::send(const std::string& method, const std::string& path,
                                  const std::string& body, const std::string& impersonate) {
  HttpResponse response;
  CURL* curl = curl_.get();
  curl_easy_reset(curl);
  const std::string url = server_ + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_CAINFO, caFile_.c_str());
  curl_easy_setopt(curl, CURLOPT_SSLCERT, certFile_.c_str());
  curl_easy_setopt(curl, CURLOPT_SSLKEY, keyFile_.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, appendToString);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  headers = curl_slist_append(headers, "Content-Type: application/json");
  const std::string impersonateHeader = "Impersonate-User: " + impersonate;
  if (!impersonate.empty()) headers = curl_slist_append(headers, impersonateHeader.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  EXPECT_EQ(code, CURLE_OK) << method << " " << url << ": " << curl_easy_strerror(code);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

nlohmann::json loadYamlAsJson(const std::string& path) {
  auto documents = common::parseYamlDocuments(readFile(path), path);
  EXPECT_TRUE(documents && !documents->empty()) << path;
  return documents && !documents->empty() ? documents->front() : nlohmann::json();
}

std::string testenvDir() {
  const char* dir = std::getenv("WOP_TESTENV_DIR");
  return dir != nullptr ? dir : "";
}

}  // namespace wop::testing
