// Runs a short-lived helper program (an exec credential plugin) to completion: no shell, stdin
// from /dev/null, stdout and stderr captured up to named caps, killed after a timeout.
//
// The child runs in its own process group, so a timeout also kills whatever it started.
// Thread-safe: each call owns its pipes and child; pipes are close-on-exec, so concurrent
// calls never leak them into each other's children.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace wop::common {

struct SubprocessOptions {
  std::string command;            // looked up in PATH unless it contains a slash
  std::vector<std::string> args;  // without argv[0], which is command
  std::vector<std::string> env;   // the complete environment, "NAME=value" each
  std::chrono::milliseconds timeout{30'000};
  size_t maxStdoutBytes = 0;  // more than this fails the run (ResourceExhausted)
  size_t maxStderrBytes = 0;  // more than this is dropped silently
};

struct SubprocessResult {
  int exitCode = -1;   // valid when termSignal == 0
  int termSignal = 0;  // the signal that ended the child, or 0
  std::string stdoutText;
  std::string stderrText;
};

// Fails with NotFound when the command cannot be found, DeadlineExceeded on timeout,
// ResourceExhausted when stdout is too large, Unavailable for other spawn or pipe failures.
// A child that ran and failed is a success here: look at exitCode / termSignal.
Result<SubprocessResult> runSubprocess(const SubprocessOptions& options);

}  // namespace wop::common
