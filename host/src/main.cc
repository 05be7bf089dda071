// wasm-operator: the host binary.
//
//   wasm-operator run --operators FILE_OR_FOLDER [flags]
//       Runs the operators defined there until SIGINT/SIGTERM (see server/run_command.h).
//   wasm-operator version
//   wasm-operator help [COMMAND], wasm-operator COMMAND --help
//       The usage of every command, or of one, on standard output.
//   wasm-operator call --module M.wasm --export NAME [--timeout-ms N] [--max-memory-mib N]
//       Loads M.wasm, passes standard input to NAME (see GuestInstance::callWithBytes) and
//       writes its output to standard output; what the guest logged goes to standard error.
//
// Every command's flags are declared once (server/flag_set.h), which makes its --help and
// refuses what it does not declare. Exit codes: 0 done, 1 failed while running,
// 2 (server::kUsageExitCode) a command line the command cannot accept.
#include <chrono>
#include <cstdint>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/flag_set.h"
#include "server/run_command.h"
#include "wasm/engine.h"
#include "wasm/guest_instance.h"
#include "wasm/guest_module.h"

namespace {

using wop::server::Flag;
using wop::server::FlagSet;
using wop::server::ParsedFlags;

// Wasm32 addresses at most 4 GiB of linear memory.
constexpr int64_t kMaxMemoryMiB = 4096;

FlagSet callFlags() {
  const wop::wasm::InstanceLimits limits;
  FlagSet flags("wasm-operator call",
                "Loads M.wasm, passes standard input to the export NAME and writes its output to "
                "standard output; what the guest logs goes to standard error.");
  flags.add(Flag::text("module", "M.wasm", "the module").required());
  flags.add(Flag::text("export", "NAME", "the export to call").required());
  flags.add(Flag::duration("timeout-ms", "N", "the call's time limit, in ms or e.g. 2s",
                           std::chrono::milliseconds(1), std::chrono::hours(1))
                .withDefault(limits.maxEntryTime));
  flags.add(
      Flag::integer("max-memory-mib", "N", "the module's memory limit in MiB", 1, kMaxMemoryMiB)
          .withDefault(static_cast<int64_t>(limits.maxMemoryBytes >> 20)));
  return flags;
}

FlagSet versionFlags() {
  return FlagSet("wasm-operator version",
                 "Prints the host's version and the Wasmtime version it embeds.");
}

// Every command's flags, in the order the general usage lists them.
std::vector<std::pair<std::string, FlagSet>> commands() {
  std::vector<std::pair<std::string, FlagSet>> all;
  all.emplace_back("run", wop::server::runFlags());
  all.emplace_back("call", callFlags());
  all.emplace_back("version", versionFlags());
  return all;
}

// The general usage: every command's usage line, then how to get help.
std::string usage() {
  std::string text;
  for (const auto& [name, flags] : commands()) {
    std::string line = flags.usageLine();
    if (!text.empty()) line.replace(0, std::string("usage: ").size(), "       ");
    text += line;
  }
  return text + "       wasm-operator help [COMMAND]   (or COMMAND --help)\n";
}

std::optional<FlagSet> flagsOf(const std::string& command) {
  for (auto& [name, flags] : commands()) {
    if (name == command) return std::move(flags);
  }
  return std::nullopt;
}

int usageError(const std::string& message) {
  std::cerr << "wasm-operator: " << message << "\n" << usage();
  return wop::server::kUsageExitCode;
}

int fail(const std::string& message) {
  std::cerr << "wasm-operator call: " << message << "\n";
  return 1;
}

int runCall(const ParsedFlags& flags) {
  wop::wasm::InstanceLimits limits;
  limits.maxEntryTime = flags.duration("timeout-ms").value_or(limits.maxEntryTime);
  if (auto mib = flags.integer("max-memory-mib")) {
    limits.maxMemoryBytes = static_cast<uint64_t>(*mib) << 20;
  }

  std::string input((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  wop::wasm::Engine engine;
  auto loaded = wop::wasm::GuestModule::compileFile(engine, *flags.text("module"));
  if (!loaded) return fail(loaded.status().toString());
  auto instance = wop::wasm::GuestInstance::create(engine, *loaded, limits);
  if (!instance) return fail(instance.status().toString());
  auto output = instance->callWithBytes(*flags.text("export"), input);
  std::cerr << instance->state().output;
  if (!output) return fail(output.status().toString());
  std::cout << *output;
  return 0;
}

bool isHelp(const std::string& arg) { return arg == "--help" || arg == "-h" || arg == "help"; }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usageError("missing command");
  const std::string command = argv[1];
  // `help`, `--help`, `help COMMAND`: the usage on standard output, exit 0.
  if (isHelp(command)) {
    if (argc == 2) {
      std::cout << usage();
      return 0;
    }
    auto flags = flagsOf(argv[2]);
    if (!flags) return usageError(std::string("unknown command ") + argv[2]);
    std::cout << flags->help();
    return 0;
  }
  auto flags = flagsOf(command);
  if (!flags) return usageError("unknown command " + command);
  const std::vector<std::string> args(argv + 2, argv + argc);
  auto parsed = wop::server::parseCommandLine(*flags, args, std::cout, std::cerr);
  if (!parsed) return parsed.error();  // help printed (0) or the command line refused (2)

  if (command == "version") {
    std::cout << "wasm-operator " << WOP_VERSION << " (Wasmtime " << WOP_WASMTIME_VERSION << ")\n";
    return 0;
  }
  if (command == "call") return runCall(*parsed);
  return wop::server::runCommand(*parsed);
}
