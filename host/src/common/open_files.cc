#include "common/open_files.h"

#include <sys/resource.h>

#include <filesystem>

namespace wop::common {

std::optional<OpenFileLimit> raiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::nullopt;
  OpenFileLimit out{limit.rlim_cur, limit.rlim_cur, limit.rlim_max};
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised{limit.rlim_max, limit.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) out.soft = limit.rlim_max;
  }
  return out;
}

std::optional<OpenFiles> openFiles() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return std::nullopt;
  std::error_code error;
  uint64_t open = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end;
       it.increment(error)) {
    ++open;
  }
  if (error) return std::nullopt;
  return OpenFiles{open, limit.rlim_cur};
}

std::string openFilesWarning(const OpenFiles& files) {
  if (files.limit == RLIM_INFINITY || files.open * 5 < files.limit * 4) return "";
  return std::to_string(files.open) + " files open of the limit of " + std::to_string(files.limit) +
         " (RLIMIT_NOFILE): each operator with a distinct module keeps one open, so about " +
         std::to_string(files.limit - std::min(files.limit, files.open)) +
         " more can be loaded; raise the hard limit (LimitNOFILE=, ulimit -Hn) before adding more";
}

}  // namespace wop::common
