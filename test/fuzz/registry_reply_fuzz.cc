// Arbitrary bytes as what a registry or a Secret hands the module fetcher: a manifest, a
// WWW-Authenticate challenge, a docker config, an image reference (the first byte picks
// which). A Status naming what is wrong, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fetch/oci_puller.h"
#include "fetch/oci_reference.h"
#include "fetch/registry_auth.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0:
      (void)wop::fetch::wasmLayerOf(text, 64u << 20).isOk();
      break;
    case 1:
      (void)wop::fetch::parseAuthChallenge(text).isOk();
      break;
    case 2:
      (void)wop::fetch::credentialsFor(text, "registry.test:5000").isOk();
      break;
    default:
      if (auto reference = wop::fetch::parseOciReference(text); reference.isOk()) {
        (void)reference->toString();
        (void)reference->apiHost();
      }
  }
  return 0;
}
