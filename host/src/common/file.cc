#include "common/file.h"

#include <cerrno>
#include <cstring>
#include <fstream>

namespace wop::common {

Result<std::vector<uint8_t>> readFileBytes(const std::string& path, size_t maxBytes) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in)
    return Status(StatusCode::kNotFound, "cannot open " + path + ": " + std::strerror(errno));
  const std::streamoff size = in.tellg();
  if (size < 0) return Status(StatusCode::kInvalidArgument, "cannot size " + path);
  if (static_cast<uint64_t>(size) > maxBytes) {
    return Status(StatusCode::kResourceExhausted, path + " is " + std::to_string(size) +
                                                      " bytes, above the limit of " +
                                                      std::to_string(maxBytes));
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    return Status(StatusCode::kUnavailable, "cannot read " + path);
  }
  return bytes;
}

}  // namespace wop::common
