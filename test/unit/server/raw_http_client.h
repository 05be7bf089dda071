// A deliberately dumb HTTP client for the HTTP server's tests: raw bytes over a TCP socket to
// 127.0.0.1, so a test can be the slow, malformed or oversized client a real one never is.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>

namespace wop::server::rawhttp {

class RawConnection {
 public:
  explicit RawConnection(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(std::exchange(fd_, -1));
    }
  }
  ~RawConnection() { close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  void close() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

  // False when the server has closed or reset the connection meanwhile.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent < 0 && errno == EINTR) continue;
      if (sent <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
  }

  struct Received {
    std::string bytes;
    bool closed = false;  // the server closed (or reset) the connection within the time
  };

  // Everything the server sends until it closes the connection or timeout passes.
  Received readUntilClosed(std::chrono::milliseconds timeout) {
    Received received;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buffer[4096];
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return received;
      pollfd poller{fd_, POLLIN, 0};
      const int ready = ::poll(&poller, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return received;
      const ssize_t got = ::recv(fd_, buffer, sizeof buffer, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        received.closed = true;
        return received;
      }
      received.bytes.append(buffer, static_cast<size_t>(got));
    }
  }

 private:
  int fd_;
};

struct RawReply {
  int status = 0;  // 0: no status line came back
  std::string head;
  std::string body;
  bool closed = false;

  // The value of a header (names compared as the server writes them), or "".
  std::string header(std::string_view name) const {
    const std::string key = "\r\n" + std::string(name) + ": ";
    const size_t at = head.find(key);
    if (at == std::string::npos) return "";
    const size_t start = at + key.size();
    return head.substr(start, head.find("\r\n", start) - start);
  }
};

inline RawReply parseReply(RawConnection::Received received) {
  RawReply reply;
  reply.closed = received.closed;
  const std::string& raw = received.bytes;
  if (raw.starts_with("HTTP/1.") && raw.size() >= 12) {
    reply.status = std::atoi(raw.substr(9, 3).c_str());
  }
  const size_t end = raw.find("\r\n\r\n");
  reply.head = raw.substr(0, end);
  if (end != std::string::npos) reply.body = raw.substr(end + 4);
  return reply;
}

// Sends request (raw bytes) on a new connection and reads the reply until the server closes.
inline RawReply sendRequest(uint16_t port, std::string_view request,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
  RawConnection connection(port);
  if (!connection.connected()) return {};
  connection.send(request);
  return parseReply(connection.readUntilClosed(timeout));
}

inline RawReply get(uint16_t port, std::string_view target, std::string_view method = "GET") {
  return sendRequest(port, std::string(method) + " " + std::string(target) +
                               " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
}

}  // namespace wop::server::rawhttp
