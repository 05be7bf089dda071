// Fetches WasmOperator modules from their sources (module_source.h) into the ModuleStore, in
// the background, so that a registry that is down or slow holds up only the operators that
// come from it:
//
//  - image: the OCI artifact (oci_puller.h), with credentials from the image pull Secrets;
//    its tag resolved to a manifest digest, which the result records;
//  - configMapRef: binaryData[key] of the ConfigMap;
//  - url: an HTTPS download.
//
// Secrets and ConfigMaps are read as the operator's ServiceAccount (impersonated): the right
// to read a module is the operator's own, and the host needs no right to read them. A pinned
// sha256 is checked before anything is stored, and a module already in the store under its
// digest is not fetched again (cached()).
//
// Concurrency: each fetch runs on its own thread; at most kPerSource at once per registry or
// URL host (and per API server), kTotal in all; more wait their turn in order. Destruction
// stops the fetches in flight (a transfer aborts within a second) and waits for them.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>

#include "common/status.h"
#include "fetch/https_client.h"
#include "fetch/module_source.h"
#include "fetch/module_store.h"
#include "fetch/registry_auth.h"
#include "kube/client.h"

namespace wop::fetch {

struct FetchRequest {
  ModuleSource source;
  kube::RequestOptions identity;  // the operator's: Secrets and ConfigMaps are read as it
  std::string secretsNamespace;   // where imagePullSecrets are (the ServiceAccount's)
  // image only: what this image's tag was resolved to before (its status), so that a restart
  // loads the same module without asking the registry again. Ignored when it names another
  // image.
  std::string knownResolvedImage;
};

struct FetchedModule {
  std::string path;           // in the store
  std::string sha256;         // the module's (hex)
  std::string resolvedImage;  // image only: registry/repository@sha256:<manifest digest>
};

class ModuleFetcher {
 public:
  static constexpr int kPerSource = 4;
  static constexpr int kTotal = 32;

  // client, store and https must outlive the fetcher.
  ModuleFetcher(kube::Client& client, ModuleStore& store, const HttpsClient& https,
                size_t maxModuleBytes);
  ~ModuleFetcher();
  ModuleFetcher(const ModuleFetcher&) = delete;
  ModuleFetcher& operator=(const ModuleFetcher&) = delete;

  // Without any request: the module, if the store has what request pins (a sha256, an image
  // digest, or a known resolution of its tag).
  std::optional<FetchedModule> cached(const FetchRequest& request) const;
  // Fetches in the background; done is called once, on the fetch's own thread (not at all
  // when the fetcher is destroyed first).
  void fetch(FetchRequest request, std::function<void(common::Result<FetchedModule>)> done);
  // The whole fetch, on the calling thread (for tests and tools).
  common::Result<FetchedModule> fetchNow(const FetchRequest& request, std::stop_token stop = {});

 private:
  struct Job {
    std::string lane;
    FetchRequest request;
    std::function<void(common::Result<FetchedModule>)> done;
  };

  void startReady();  // with mutex_ held
  void run(Job job);
  common::Result<FetchedModule> fromImage(const FetchRequest& request, std::stop_token stop);
  common::Result<FetchedModule> fromConfigMap(const FetchRequest& request);
  common::Result<FetchedModule> fromUrl(const FetchRequest& request, std::stop_token stop);
  common::Result<std::optional<RegistryCredentials>> pullCredentials(const FetchRequest& request,
                                                                     const std::string& registry);
  common::Result<FetchedModule> stored(std::span<const uint8_t> bytes, const std::string& pinned,
                                       const std::string& what);

  kube::Client& client_;
  ModuleStore& store_;
  const HttpsClient& https_;
  const size_t maxModuleBytes_;

  std::mutex mutex_;  // guards the rest
  std::deque<Job> waiting_;
  std::map<std::string, int> runningPerLane_;
  int running_ = 0;
  std::condition_variable idle_;
  std::stop_source stop_;
};

}  // namespace wop::fetch
