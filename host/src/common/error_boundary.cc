#include "common/error_boundary.h"

#include <cstdio>
#include <exception>
#include <new>
#include <string>

#include "common/log_text.h"

namespace wop::common {

Status statusOfCurrentException(std::string_view where) noexcept {
  try {
    try {
      throw;
    } catch (const std::bad_alloc&) {
      return Status(StatusCode::kResourceExhausted, std::string(where) + ": out of memory");
    } catch (const std::exception& e) {
      return Status(StatusCode::kInternal, std::string(where) + ": " + escapeLogText(e.what()));
    } catch (...) {
      return Status(StatusCode::kInternal,
                    std::string(where) + ": an exception that is not a std::exception");
    }
  } catch (...) {
    // Building the reason threw (out of memory): a message short enough for the string's
    // inline buffer needs no allocation.
    return Status(StatusCode::kResourceExhausted, "out of memory");
  }
}

void logToStderr(const Status& status, std::string_view context) noexcept {
  // One fprintf: the line reaches stderr whole even when other threads log at the same time.
  const int contextLen = static_cast<int>(context.size());
  std::fprintf(stderr, "wasm-operator: %.*s%s%s\n", contextLen, context.data(),
               context.empty() ? "" : ": ", status.message().c_str());
}

}  // namespace wop::common
