#include "kube/kubeconfig.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <optional>

#include "common/base64.h"
#include "common/file.h"
#include "common/limits.h"
#include "common/yaml.h"

namespace wop::kube {
namespace {

using common::Result;
using common::Status;
using common::StatusCode;

constexpr const char* kDefaultExecInteractiveMode = "IfAvailable";

Status invalid(const std::string& where, const std::string& what) {
  return Status(StatusCode::kInvalidArgument, where + ": " + what);
}

std::string inQuotes(const std::string& text) { return "\"" + text + "\""; }

std::string folderOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Relative references in a kubeconfig are relative to the file that holds them, not to the
// working directory (kubectl's rule), so configs stay valid wherever the tool runs.
std::string resolvePath(const std::string& path, const std::string& definingFile) {
  if (path.empty() || path.front() == '/') return path;
  return folderOf(definingFile) + "/" + path;
}

// Small files only: stat first so a directory or a FIFO named by mistake fails instead of
// hanging or reading garbage.
Result<std::string> readSmallFile(const std::string& path) {
  struct stat info{};
  if (::stat(path.c_str(), &info) != 0) {
    return Status(StatusCode::kNotFound, "cannot open " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) {
    return Status(StatusCode::kInvalidArgument, path + " is not a regular file");
  }
  auto bytes = common::readFileBytes(path, limits::kMaxKubeconfigBytes);
  if (!bytes) return bytes.status();
  return std::string(bytes->begin(), bytes->end());
}

std::string trimmed(const std::string& text) {
  const char* kSpace = " \t\r\n";
  const size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
}

bool fileExists(const std::string& path) {
  struct stat info{};
  return ::stat(path.c_str(), &info) == 0;
}

// ---------------------------------------------------------------- typed field access
// The document is JSON (converted from YAML); these check types first so errors say which
// field is wrong, and never throw.

using Json = nlohmann::json;

const Json& field(const Json& map, const char* key) {
  static const Json kNull;
  if (!map.is_object()) return kNull;
  auto it = map.find(key);
  return it == map.end() ? kNull : *it;
}

bool isAbsent(const Json& node) { return node.is_null(); }

// YAML scalars that look like numbers or booleans arrive typed; kubeconfig fields are strings.
std::optional<std::string> scalarText(const Json& node) {
  if (node.is_string()) return node.get<std::string>();
  if (node.is_number() || node.is_boolean()) return node.dump();
  return std::nullopt;
}

Result<std::string> stringField(const Json& map, const char* key, const std::string& where) {
  const Json& node = field(map, key);
  if (isAbsent(node)) return std::string();
  auto text = scalarText(node);
  if (!text) return invalid(where, std::string(key) + " must be a string");
  return *text;
}

Result<bool> boolField(const Json& map, const char* key, const std::string& where) {
  const Json& node = field(map, key);
  if (isAbsent(node)) return false;
  if (node.is_boolean()) return node.get<bool>();
  if (node.is_string() && (node == "true" || node == "false")) return node == "true";
  return invalid(where, std::string(key) + " must be true or false");
}

Result<std::vector<std::string>> stringListField(const Json& map, const char* key,
                                                 const std::string& where) {
  const Json& node = field(map, key);
  std::vector<std::string> values;
  if (isAbsent(node)) return values;
  if (!node.is_array()) return invalid(where, std::string(key) + " must be a list of strings");
  for (const Json& item : node) {
    auto text = scalarText(item);
    if (!text) return invalid(where, std::string(key) + " must be a list of strings");
    values.push_back(*text);
  }
  return values;
}

// A PEM value from either "<key>" (a file) or "<key>-data" (base64); data wins, as in kubectl.
Result<std::string> pemField(const Json& map, const std::string& key, const std::string& where,
                             const std::string& definingFile) {
  auto data = stringField(map, (key + "-data").c_str(), where);
  if (!data) return data.status();
  if (!data->empty()) {
    auto decoded = common::base64Decode(*data);
    if (!decoded) {
      return invalid(where, key + "-data is not valid base64 (" + decoded.status().message() + ")");
    }
    return std::move(decoded).value();
  }
  auto file = stringField(map, key.c_str(), where);
  if (!file) return file.status();
  if (file->empty()) return std::string();
  auto contents = readSmallFile(resolvePath(*file, definingFile));
  if (!contents) return invalid(where, key + ": " + contents.status().message());
  return contents;
}

// ---------------------------------------------------------------- merging

// One named entry (cluster, user or context) and where it was defined, for messages.
struct NamedEntry {
  Json body;
  std::string file;
  std::string where;  // kubeconfig <file>: users[1] (name "alice")
};

struct MergedKubeconfig {
  std::map<std::string, NamedEntry> clusters;
  std::map<std::string, NamedEntry> users;
  std::map<std::string, NamedEntry> contexts;
  std::string currentContext;
  std::vector<std::string> files;
};

std::string fileWhere(const std::string& path) { return "kubeconfig " + path; }

// Adds the entries of one list (clusters, users, contexts) that no earlier file defined.
Status mergeList(const Json& root, const char* list, const char* bodyKey, const std::string& path,
                 std::map<std::string, NamedEntry>& into) {
  const Json& items = field(root, list);
  if (isAbsent(items)) return Status::ok();
  if (!items.is_array()) return invalid(fileWhere(path), std::string(list) + " must be a list");
  size_t index = 0;
  for (const Json& item : items) {
    std::string where = fileWhere(path) + ": " + list + "[" + std::to_string(index++) + "]";
    if (!item.is_object())
      return invalid(where, "must be a map with name and " + std::string(bodyKey));
    auto name = stringField(item, "name", where);
    if (!name) return name.status();
    if (name->empty()) return invalid(where, "has no name");
    where += " (name " + inQuotes(*name) + ")";
    const Json& body = field(item, bodyKey);
    if (!isAbsent(body) && !body.is_object()) {
      return invalid(where, std::string(bodyKey) + " must be a map");
    }
    into.try_emplace(*name,
                     NamedEntry{body.is_object() ? body : Json::object(), path, std::move(where)});
  }
  return Status::ok();
}

Status mergeDocumentUnchecked(std::string_view yaml, const std::string& path,
                              MergedKubeconfig& merged) {
  auto documents = common::parseYamlDocuments(yaml, fileWhere(path));
  if (!documents) return documents.status();
  merged.files.push_back(path);
  if (documents->empty()) return Status::ok();  // an empty file is an empty config, as in kubectl
  const Json& root = documents->front();
  if (!root.is_object()) return invalid(fileWhere(path), "the document must be a map");
  if (Status s = mergeList(root, "clusters", "cluster", path, merged.clusters); !s.isOk()) return s;
  if (Status s = mergeList(root, "users", "user", path, merged.users); !s.isOk()) return s;
  if (Status s = mergeList(root, "contexts", "context", path, merged.contexts); !s.isOk()) return s;
  auto current = stringField(root, "current-context", fileWhere(path));
  if (!current) return current.status();
  if (merged.currentContext.empty()) merged.currentContext = *current;
  return Status::ok();
}

// Nothing may escape as an exception (nlohmann's, on a misuse we did not foresee).
Status mergeDocument(std::string_view yaml, const std::string& path, MergedKubeconfig& merged) {
  if (yaml.size() > limits::kMaxKubeconfigBytes) {
    return Status(StatusCode::kResourceExhausted,
                  fileWhere(path) + " is " + std::to_string(yaml.size()) +
                      " bytes, above the limit of " + std::to_string(limits::kMaxKubeconfigBytes));
  }
  try {
    return mergeDocumentUnchecked(yaml, path, merged);
  } catch (const std::exception& e) {
    return invalid(fileWhere(path), std::string("cannot be read: ") + e.what());
  }
}

// ---------------------------------------------------------------- resolving one context

Status applyCluster(const NamedEntry& entry, ClientConfig& config) {
  const Json& body = entry.body;
  auto server = stringField(body, "server", entry.where);
  if (!server) return server.status();
  config.server = *server;
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  if (config.server.empty()) return invalid(entry.where, "server is missing");
  auto tlsServerName = stringField(body, "tls-server-name", entry.where);
  if (!tlsServerName) return tlsServerName.status();
  config.tlsServerName = *tlsServerName;
  auto insecure = boolField(body, "insecure-skip-tls-verify", entry.where);
  if (!insecure) return insecure.status();
  config.insecureSkipTlsVerify = *insecure;
  auto ca = pemField(body, "certificate-authority", entry.where, entry.file);
  if (!ca) return ca.status();
  config.caPem = *ca;
  return Status::ok();
}

Result<std::vector<std::pair<std::string, std::string>>> execEnv(const Json& exec,
                                                                 const std::string& where) {
  std::vector<std::pair<std::string, std::string>> env;
  const Json& list = field(exec, "env");
  if (isAbsent(list)) return env;
  if (!list.is_array()) return invalid(where, "exec.env must be a list of {name, value}");
  for (const Json& item : list) {
    if (!item.is_object()) return invalid(where, "exec.env must be a list of {name, value}");
    auto name = stringField(item, "name", where);
    if (!name) return name.status();
    auto value = stringField(item, "value", where);
    if (!value) return value.status();
    if (name->empty()) return invalid(where, "exec.env has an entry without a name");
    env.emplace_back(*name, *value);
  }
  return env;
}

Result<ExecConfig> parseExec(const Json& exec, const std::string& where,
                             const std::string& definingFile) {
  if (!exec.is_object()) return invalid(where, "exec must be a map");
  ExecConfig config;
  auto apiVersion = stringField(exec, "apiVersion", where);
  auto command = stringField(exec, "command", where);
  auto args = stringListField(exec, "args", where);
  auto env = execEnv(exec, where);
  auto installHint = stringField(exec, "installHint", where);
  auto provideClusterInfo = boolField(exec, "provideClusterInfo", where);
  auto interactiveMode = stringField(exec, "interactiveMode", where);
  for (const Status* s :
       {&apiVersion.status(), &command.status(), &args.status(), &env.status(),
        &installHint.status(), &provideClusterInfo.status(), &interactiveMode.status()}) {
    if (!s->isOk()) return *s;
  }
  if (*apiVersion != "client.authentication.k8s.io/v1" &&
      *apiVersion != "client.authentication.k8s.io/v1beta1") {
    return invalid(where, "exec.apiVersion " + inQuotes(*apiVersion) +
                              " is not supported (use client.authentication.k8s.io/v1)");
  }
  if (command->empty()) return invalid(where, "exec.command is missing");
  // A bare name is looked up in PATH; a path with a slash is relative to the kubeconfig.
  config.command =
      command->find('/') == std::string::npos ? *command : resolvePath(*command, definingFile);
  config.apiVersion = *apiVersion;
  config.args = std::move(args).value();
  config.env = std::move(env).value();
  config.installHint = *installHint;
  config.provideClusterInfo = *provideClusterInfo;
  config.interactiveMode =
      interactiveMode->empty() ? kDefaultExecInteractiveMode : *interactiveMode;
  if (config.interactiveMode == "Always") {
    return invalid(where, "exec.interactiveMode is Always, but wasm-operator has no terminal");
  }
  if (config.interactiveMode != "Never" && config.interactiveMode != "IfAvailable") {
    return invalid(where, "exec.interactiveMode " + inQuotes(config.interactiveMode) +
                              " is not Never, IfAvailable or Always");
  }
  return config;
}

// Fields kubectl accepts that we deliberately do not implement: refuse rather than ignore, so
// a request never silently goes out with less authentication than the user configured.
Status refuseUnsupportedAuth(const Json& body, const std::string& where) {
  if (!isAbsent(field(body, "auth-provider"))) {
    return invalid(where,
                   "auth-provider is not supported; use an exec credential plugin "
                   "(users[].user.exec) instead");
  }
  if (!isAbsent(field(body, "username")) || !isAbsent(field(body, "password"))) {
    return invalid(where, "username/password (basic auth) is not supported");
  }
  if (!isAbsent(field(body, "as")) || !isAbsent(field(body, "as-groups"))) {
    return invalid(where, "impersonation (as, as-groups) is not supported");
  }
  return Status::ok();
}

Status applyToken(const NamedEntry& entry, ClientConfig& config) {
  auto token = stringField(entry.body, "token", entry.where);
  if (!token) return token.status();
  auto tokenFile = stringField(entry.body, "tokenFile", entry.where);
  if (!tokenFile) return tokenFile.status();
  config.bearerToken = *token;
  if (tokenFile->empty()) return Status::ok();
  config.tokenFile = resolvePath(*tokenFile, entry.file);
  auto contents = readSmallFile(config.tokenFile);
  if (!contents) return invalid(entry.where, "tokenFile: " + contents.status().message());
  // An explicit token wins for the first request, as in client-go; the file is re-read later.
  if (config.bearerToken.empty()) config.bearerToken = trimmed(*contents);
  return Status::ok();
}

Status applyUser(const NamedEntry& entry, ClientConfig& config) {
  const Json& body = entry.body;
  if (Status s = refuseUnsupportedAuth(body, entry.where); !s.isOk()) return s;
  auto cert = pemField(body, "client-certificate", entry.where, entry.file);
  if (!cert) return cert.status();
  auto key = pemField(body, "client-key", entry.where, entry.file);
  if (!key) return key.status();
  if (cert->empty() != key->empty()) {
    return invalid(entry.where, cert->empty() ? "client-key is set without client-certificate"
                                              : "client-certificate is set without client-key");
  }
  config.clientCertPem = *cert;
  config.clientKeyPem = *key;
  if (Status s = applyToken(entry, config); !s.isOk()) return s;
  const Json& exec = field(body, "exec");
  if (isAbsent(exec)) return Status::ok();
  auto parsed = parseExec(exec, entry.where, entry.file);
  if (!parsed) return parsed.status();
  config.exec = std::move(parsed).value();
  return Status::ok();
}

std::string filesWhere(const MergedKubeconfig& merged) {
  std::string joined;
  for (const std::string& file : merged.files) joined += (joined.empty() ? "" : ", ") + file;
  return "kubeconfig " + joined;
}

Result<ClientConfig> resolveUnchecked(const MergedKubeconfig& merged,
                                      const std::string& contextOverride) {
  const std::string contextName = contextOverride.empty() ? merged.currentContext : contextOverride;
  if (contextName.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  filesWhere(merged) + ": no context selected (current-context is not set)");
  }
  const auto context = merged.contexts.find(contextName);
  if (context == merged.contexts.end()) {
    return Status(StatusCode::kNotFound,
                  filesWhere(merged) + ": context " + inQuotes(contextName) + " is not defined");
  }
  const NamedEntry& ctx = context->second;
  auto clusterName = stringField(ctx.body, "cluster", ctx.where);
  auto userName = stringField(ctx.body, "user", ctx.where);
  auto ns = stringField(ctx.body, "namespace", ctx.where);
  for (const Status* s : {&clusterName.status(), &userName.status(), &ns.status()}) {
    if (!s->isOk()) return *s;
  }
  if (clusterName->empty()) return invalid(ctx.where, "cluster is missing");
  const auto cluster = merged.clusters.find(*clusterName);
  if (cluster == merged.clusters.end()) {
    return invalid(ctx.where, "cluster " + inQuotes(*clusterName) + " is not defined");
  }
  ClientConfig config;
  config.contextName = contextName;
  config.source = "kubeconfig " + ctx.file + ", context " + contextName;
  if (!ns->empty()) config.defaultNamespace = *ns;
  if (Status s = applyCluster(cluster->second, config); !s.isOk()) return s;
  if (userName->empty()) return config;  // an anonymous context, which kubectl allows
  const auto user = merged.users.find(*userName);
  if (user == merged.users.end()) {
    return invalid(ctx.where, "user " + inQuotes(*userName) + " is not defined");
  }
  if (Status s = applyUser(user->second, config); !s.isOk()) return s;
  return config;
}

Result<ClientConfig> resolve(const MergedKubeconfig& merged, const std::string& contextOverride) {
  try {
    return resolveUnchecked(merged, contextOverride);
  } catch (const std::exception& e) {
    return invalid(filesWhere(merged), std::string("cannot be read: ") + e.what());
  }
}

Status mergeFile(const std::string& path, MergedKubeconfig& merged) {
  auto contents = readSmallFile(path);
  if (!contents) return contents.status().withContext("kubeconfig");
  return mergeDocument(*contents, path, merged);
}

// The files KUBECONFIG names, in order; empty entries are skipped, as kubectl does.
std::vector<std::string> splitKubeconfigEnv(const std::string& value) {
  std::vector<std::string> paths;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(':', start);
    if (end == std::string::npos) end = value.size();
    if (end > start) paths.push_back(value.substr(start, end - start));
    start = end + 1;
  }
  return paths;
}

Result<std::vector<std::string>> kubeconfigFiles(const KubeconfigOptions& options) {
  if (!options.explicitPath.empty()) return std::vector<std::string>{options.explicitPath};
  if (!options.kubeconfigEnv.empty()) {
    std::vector<std::string> existing;
    for (const std::string& path : splitKubeconfigEnv(options.kubeconfigEnv)) {
      if (fileExists(path)) existing.push_back(path);
    }
    if (existing.empty()) {
      return Status(StatusCode::kNotFound,
                    "none of the files in KUBECONFIG=" + options.kubeconfigEnv + " exists");
    }
    return existing;
  }
  if (options.homeDir.empty()) {
    return Status(StatusCode::kNotFound,
                  "no kubeconfig: --kubeconfig, KUBECONFIG and HOME are all unset");
  }
  return std::vector<std::string>{options.homeDir + "/.kube/config"};
}

std::string envOrEmpty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// RFC 3986 wants IPv6 literals in brackets inside a URL.
std::string hostForUrl(const std::string& host) {
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
  return host;
}

}  // namespace

KubeconfigOptions kubeconfigOptionsFromEnvironment() {
  KubeconfigOptions options;
  options.kubeconfigEnv = envOrEmpty("KUBECONFIG");
  options.homeDir = envOrEmpty("HOME");
  return options;
}

common::Result<ClientConfig> loadKubeconfig(const KubeconfigOptions& options) {
  auto files = kubeconfigFiles(options);
  if (!files) return files.status();
  MergedKubeconfig merged;
  for (const std::string& path : *files) {
    if (Status s = mergeFile(path, merged); !s.isOk()) return s;
  }
  return resolve(merged, options.contextOverride);
}

common::Result<ClientConfig> parseKubeconfig(std::string_view yaml, const std::string& path,
                                             const std::string& contextOverride) {
  MergedKubeconfig merged;
  if (Status s = mergeDocument(yaml, path, merged); !s.isOk()) return s;
  return resolve(merged, contextOverride);
}

InClusterOptions inClusterOptionsFromEnvironment() {
  InClusterOptions options;
  options.serviceHost = envOrEmpty("KUBERNETES_SERVICE_HOST");
  options.servicePort = envOrEmpty("KUBERNETES_SERVICE_PORT");
  return options;
}

common::Result<ClientConfig> loadInCluster(const InClusterOptions& options) {
  const char* kNotInCluster = "not running in a cluster: ";
  if (options.serviceHost.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  std::string(kNotInCluster) + "KUBERNETES_SERVICE_HOST is not set");
  }
  if (options.servicePort.empty()) {
    return Status(StatusCode::kFailedPrecondition,
                  std::string(kNotInCluster) + "KUBERNETES_SERVICE_PORT is not set");
  }
  ClientConfig config;
  config.server = "https://" + hostForUrl(options.serviceHost) + ":" + options.servicePort;
  config.source = "in-cluster service account, server " + config.server;
  auto token = readSmallFile(options.tokenPath);
  if (!token) return token.status().withContext("in-cluster service account token");
  config.bearerToken = trimmed(*token);
  config.tokenFile = options.tokenPath;
  auto ca = readSmallFile(options.caPath);
  if (!ca) return ca.status().withContext("in-cluster service account CA");
  config.caPem = *ca;
  if (fileExists(options.namespacePath)) {
    auto ns = readSmallFile(options.namespacePath);
    if (!ns) return ns.status().withContext("in-cluster service account namespace");
    if (!trimmed(*ns).empty()) config.defaultNamespace = trimmed(*ns);
  }
  return config;
}

}  // namespace wop::kube
