#include "common/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
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

Status writeFileAtomically(const std::string& path, std::span<const uint8_t> bytes) {
  // Unique per process and call, so two threads writing the same path do not collide.
  static std::atomic<uint64_t> counter{0};
  const std::string tmp =
      path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  // 0600: what goes through here (artifacts, modules) is code this host maps and runs.
  // O_NOFOLLOW|O_EXCL: a link or file planted at the temporary name is not written through.
  const int fd = ::open(tmp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Status(StatusCode::kUnavailable, "cannot create " + tmp + ": " + std::strerror(errno));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0 || done != bytes.size()) {
    std::remove(tmp.c_str());
    return Status(StatusCode::kUnavailable, "cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status(StatusCode::kUnavailable, "cannot rename " + tmp + " to " + path);
  }
  return Status::ok();
}

}  // namespace wop::common
