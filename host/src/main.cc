// wasm-operator: the host binary.
//
//   wasm-operator run --operators FILE_OR_FOLDER [--kubeconfig K] [--context C] [--workers N]
//                     [--artifact-dir D] [--status-file F] [--qps Q] [--burst B]
//       Runs the operators defined there until SIGINT/SIGTERM (see server/run_command.h).
//   wasm-operator version
//   wasm-operator call --module M.wasm --export NAME [--timeout-ms N] [--max-memory-mib N]
//       Loads M.wasm, passes standard input to NAME (see GuestInstance::callWithBytes) and
//       writes its output to standard output; what the guest logged goes to standard error.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "server/run_command.h"
#include "wasm/engine.h"
#include "wasm/guest_instance.h"
#include "wasm/guest_module.h"

namespace {

constexpr const char* kUsage =
    "usage: wasm-operator run --operators FILE_OR_FOLDER [--kubeconfig K] [--context C] "
    "[--workers N] [--artifact-dir D] [--status-file F] [--qps Q] [--burst B]\n"
    "           [--swap on|off] [--swap-dir D] [--swap-idle-ms N] [--swap-predict on|off]\n"
    "       wasm-operator version\n"
    "       wasm-operator call --module M.wasm --export NAME [--timeout-ms N] "
    "[--max-memory-mib N]\n";

int fail(const std::string& message) {
  std::cerr << "wasm-operator: " << message << "\n";
  return 1;
}

// Parses "--key value" pairs; returns false on a flag without a value.
bool parseFlags(int argc, char** argv, int first, std::map<std::string, std::string>& flags) {
  for (int i = first; i < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0 || i + 1 >= argc) return false;
    flags[key.substr(2)] = argv[i + 1];
  }
  return true;
}

bool parseNumber(const std::string& text, long& out) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size() && out > 0;
}

int runCall(const std::map<std::string, std::string>& flags) {
  auto module = flags.find("module");
  auto exported = flags.find("export");
  if (module == flags.end() || exported == flags.end())
    return fail("call needs --module and --export");

  wop::wasm::InstanceLimits limits;
  long number = 0;
  if (auto it = flags.find("timeout-ms"); it != flags.end()) {
    if (!parseNumber(it->second, number)) return fail("--timeout-ms must be a positive integer");
    limits.maxEntryTime = std::chrono::milliseconds(number);
  }
  if (auto it = flags.find("max-memory-mib"); it != flags.end()) {
    if (!parseNumber(it->second, number))
      return fail("--max-memory-mib must be a positive integer");
    limits.maxMemoryBytes = static_cast<uint64_t>(number) << 20;
  }

  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  wop::wasm::Engine engine;
  auto loaded = wop::wasm::GuestModule::compileFile(engine, module->second);
  if (!loaded) return fail(loaded.status().toString());
  auto instance = wop::wasm::GuestInstance::create(engine, *loaded, limits);
  if (!instance) return fail(instance.status().toString());
  auto output = instance->callWithBytes(exported->second, input);
  std::cerr << instance->state().output;
  if (!output) return fail(output.status().toString());
  std::cout << *output;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return fail(std::string("missing command\n") + kUsage);
  const std::string command = argv[1];
  if (command == "version") {
    std::cout << "wasm-operator " << WOP_VERSION << " (Wasmtime " << WOP_WASMTIME_VERSION << ")\n";
    return 0;
  }
  std::map<std::string, std::string> flags;
  if (!parseFlags(argc, argv, 2, flags)) return fail(std::string("malformed flags\n") + kUsage);
  if (command == "call") return runCall(flags);
  if (command == "run") return wop::server::runCommand(flags);
  return fail("unknown command " + command + "\n" + kUsage);
}
