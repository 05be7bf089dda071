#include "hostcalls/abi_v1.h"

#include <algorithm>
#include <iterator>
#include <string_view>

#include "hostcalls/domains.h"
#include "wop_abi.h"

namespace wop::hostcalls {
namespace {

constexpr std::string_view kHostFunctions[] = {WOP_HOST_FUNCTION_NAMES};

}  // namespace

wasm::ModuleRequirements abiV1Requirements(uint64_t maxMemoryBytes) {
  wasm::ModuleRequirements requirements;
  requirements.providesImport = [](std::string_view module, std::string_view name) {
    return module == WOP_IMPORT_MODULE &&
           std::find(std::begin(kHostFunctions), std::end(kHostFunctions), name) !=
               std::end(kHostFunctions);
  };
  requirements.abiMarker = WOP_ABI_MARKER;
  requirements.abiMarkerPrefix = WOP_ABI_MARKER_PREFIX;
  requirements.requiredExports = {"wop_alloc", "wop_init", "wop_reconcile", "wop_on_complete"};
  requirements.maxMemoryBytes = maxMemoryBytes;
  return requirements;
}

common::Status defineAbiV1(wasmtime::Linker& linker) {
  for (auto define : {defineLog, defineConfig, defineDeclare, defineCache, defineApi, defineHttp,
                      defineReconcile}) {
    if (auto status = define(linker); !status.isOk()) return status;
  }
  return common::Status::ok();
}

}  // namespace wop::hostcalls
