// support/outbound_server.py, the local HTTPS server of the outbound HTTP tests, run for the
// lifetime of an OutboundServer object (the script also exits when its parent is gone).
#pragma once

#include <signal.h>

#include <cstdio>
#include <string>

#include "support/kube_test_env.h"

namespace wop::testing {

class OutboundServer {
 public:
  OutboundServer() {
    const std::string command = "exec /usr/bin/python3 " + std::string(WOP_SOURCE_DIR) +
                                "/test/integration/support/outbound_server.py";
    pipe_ = ::popen(command.c_str(), "r");
    if (pipe_ == nullptr) return;
    char line[4096] = {};
    if (std::fgets(line, sizeof line, pipe_) == nullptr) return;
    const auto info = parseJson(line);
    pid_ = info.value("pid", 0);
    port_ = info.value("port", 0);
    caFile_ = info.value("ca", std::string());
  }
  ~OutboundServer() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
    if (pipe_ != nullptr) ::pclose(pipe_);
  }
  bool ready() const { return port_ > 0 && !caFile_.empty(); }
  std::string base() const { return "https://127.0.0.1:" + std::to_string(port_); }
  const std::string& caFile() const { return caFile_; }

 private:
  FILE* pipe_ = nullptr;
  int pid_ = 0;
  int port_ = 0;
  std::string caFile_;
};

}  // namespace wop::testing
