// `wasm-operator run`: runs the operators of a definitions file or folder against a cluster
// until SIGINT/SIGTERM, then prints a summary.
#pragma once

#include <cstddef>

#include "server/flag_set.h"

namespace wop::server {

// The run command's flags: --operators FILE_OR_FOLDER (required), the cluster flags
// (cluster_flags.h), --artifact-dir, --status-file and the swap flags.
FlagSet runFlags();

// Runs until SIGINT/SIGTERM and returns the exit code: 0, or 1 when the definitions or the
// kubeconfig cannot be loaded. flags come from runFlags().parse.
int runCommand(const ParsedFlags& flags);

// Resident memory of this process in bytes (VmRSS).
size_t residentBytes();

}  // namespace wop::server
