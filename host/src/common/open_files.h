// The process's open-file limit (RLIMIT_NOFILE). Each operator with a distinct compiled module
// keeps one file open (Wasmtime maps the artifact and holds its file for copy-on-write memory
// images), so a host of many operators outgrows the common soft limit of 1024 long before any
// real limit: it raises the soft limit to the hard one at start, and says when it nears it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace wop::common {

struct OpenFileLimit {
  uint64_t softBefore = 0;
  uint64_t soft = 0;  // now
  uint64_t hard = 0;
};

// Raises the soft limit to the hard one (what a process may do without privileges). nullopt
// when the limit cannot be read.
std::optional<OpenFileLimit> raiseOpenFileLimit();

// Files open in this process now (entries of /proc/self/fd), and the soft limit; nullopt when
// either cannot be read.
struct OpenFiles {
  uint64_t open = 0;
  uint64_t limit = 0;
};
std::optional<OpenFiles> openFiles();

// A warning when open files reach 80% of the limit: what to do about it. Empty below that.
std::string openFilesWarning(const OpenFiles& files);

}  // namespace wop::common
