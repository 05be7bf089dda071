// wasm-operator: the host binary.
//
//   wasm-operator run --operators FILE_OR_FOLDER [--kubeconfig K] [--context C] [--workers N]
//                     [--artifact-dir D] [--status-file F] [--qps Q] [--burst B]
//       Runs the operators defined there until SIGINT/SIGTERM (see server/run_command.h).
//   wasm-operator version
//   wasm-operator help [COMMAND], wasm-operator COMMAND --help
//       The usage of every command, or of one, on standard output.
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

constexpr const char* kRunUsage =
    "usage: wasm-operator run --operators FILE_OR_FOLDER [flags]\n"
    "Runs the operators defined in FILE_OR_FOLDER (a YAML file or a folder of them) "
    "until SIGINT or SIGTERM.\n"
    "  --operators FILE_OR_FOLDER  the operator definitions (required)\n"
    "  --kubeconfig K              kubeconfig file (default: $KUBECONFIG, ~/.kube/config, "
    "in-cluster)\n"
    "  --context C                 kubeconfig context (default: its current-context)\n"
    "  --workers N                 threads running guest code (default 2)\n"
    "  --artifact-dir D            compiled modules (default ~/.cache/wasm-operator/artifacts)\n"
    "  --status-file F             rewrite F with the operators' status JSON every second\n"
    "  --qps Q, --burst B          the API client's rate limit for the process (qps <= 0: "
    "none)\n"
    "  --swap on|off               swap idle operators' memory to disk (default on)\n"
    "  --swap-dir D                snapshots (default ~/.cache/wasm-operator/snapshots)\n"
    "  --swap-idle-ms N            idle time before a swap-out (default 2000)\n"
    "  --swap-predict on|off       restore ahead of predicted wakes (default on)\n";

constexpr const char* kCallUsage =
    "usage: wasm-operator call --module M.wasm --export NAME [--timeout-ms N] "
    "[--max-memory-mib N]\n"
    "Loads M.wasm, passes standard input to the export NAME and writes its output to "
    "standard output; what the guest logs goes to standard error.\n"
    "  --module M.wasm       the module (required)\n"
    "  --export NAME         the export to call (required)\n"
    "  --timeout-ms N        the call's time limit\n"
    "  --max-memory-mib N    the module's memory limit\n";

constexpr const char* kVersionUsage =
    "usage: wasm-operator version\n"
    "Prints the host's version and the Wasmtime version it embeds.\n";

constexpr const char* kUsage =
    "usage: wasm-operator run --operators FILE_OR_FOLDER [flags]\n"
    "       wasm-operator call --module M.wasm --export NAME [flags]\n"
    "       wasm-operator version\n"
    "       wasm-operator help [COMMAND]   (or COMMAND --help)\n";

// The help text of a command, or null if there is no such command.
const char* usageOf(const std::string& command) {
  if (command == "run") return kRunUsage;
  if (command == "call") return kCallUsage;
  if (command == "version") return kVersionUsage;
  return nullptr;
}

bool isHelp(const std::string& arg) { return arg == "--help" || arg == "-h" || arg == "help"; }

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
  // `help`, `--help`, `help COMMAND`, `COMMAND --help`: the usage on standard output, exit 0.
  if (isHelp(command)) {
    const char* usage = argc > 2 ? usageOf(argv[2]) : kUsage;
    if (usage == nullptr) return fail(std::string("unknown command ") + argv[2] + "\n" + kUsage);
    std::cout << usage;
    return 0;
  }
  const char* usage = usageOf(command);
  if (usage == nullptr) return fail("unknown command " + command + "\n" + kUsage);
  for (int i = 2; i < argc; ++i) {
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::cout << usage;
      return 0;
    }
  }
  if (command == "version") {
    if (argc > 2) return fail(std::string("version takes no flags\n") + kVersionUsage);
    std::cout << "wasm-operator " << WOP_VERSION << " (Wasmtime " << WOP_WASMTIME_VERSION << ")\n";
    return 0;
  }
  std::map<std::string, std::string> flags;
  if (!parseFlags(argc, argv, 2, flags)) return fail(std::string("malformed flags\n") + usage);
  if (command == "call") return runCall(flags);
  return wop::server::runCommand(flags);
}
