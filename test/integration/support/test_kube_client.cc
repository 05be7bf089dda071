#include "test_kube_client.h"

#include <cstdlib>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace wop::testing {
namespace {

size_t appendToString(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

nlohmann::json yamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json object = nlohmann::json::object();
      for (const auto& entry : node) object[entry.first.as<std::string>()] = yamlToJson(entry.second);
      return object;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json array = nlohmann::json::array();
      for (const auto& item : node) array.push_back(yamlToJson(item));
      return array;
    }
    case YAML::NodeType::Scalar: {
      // Plain scalars that read as numbers or booleans are typed; quoted ones stay strings.
      const std::string text = node.Scalar();
      if (node.Tag() != "!") {
        if (text == "true" || text == "false") return text == "true";
        char* end = nullptr;
        const long long number = std::strtoll(text.c_str(), &end, 10);
        if (!text.empty() && *end == '\0') return number;
      }
      return text;
    }
    default:
      return nullptr;
  }
}

}  // namespace

TestKubeClient::TestKubeClient(const std::string& kubeconfigPath) {
  YAML::Node config = YAML::LoadFile(kubeconfigPath);
  const std::string contextName = config["current-context"].as<std::string>();
  YAML::Node context, cluster, user;
  for (const auto& c : config["contexts"]) {
    if (c["name"].as<std::string>() == contextName) context = c["context"];
  }
  for (const auto& c : config["clusters"]) {
    if (c["name"].as<std::string>() == context["cluster"].as<std::string>()) cluster = c["cluster"];
  }
  for (const auto& u : config["users"]) {
    if (u["name"].as<std::string>() == context["user"].as<std::string>()) user = u["user"];
  }
  server_ = cluster["server"].as<std::string>();
  caFile_ = cluster["certificate-authority"].as<std::string>();
  certFile_ = user["client-certificate"].as<std::string>();
  keyFile_ = user["client-key"].as<std::string>();
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

nlohmann::json loadYamlAsJson(const std::string& path) { return yamlToJson(YAML::LoadFile(path)); }

std::string testenvDir() {
  const char* dir = std::getenv("WOP_TESTENV_DIR");
  return dir != nullptr ? dir : "";
}

}  // namespace wop::testing
