#include "server/host_process.h"

#include <pthread.h>

#include <string>

#include "wop_abi.h"

namespace wop::server {
namespace {

sigset_t blockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

}  // namespace

HostProcess::HostProcess(const kube::ClientConfig& config, const kube::ClientOptions& clientOptions,
                         runtime::HostOptions hostOptions, runtime::LogFormat logFormat)
    : signals_(blockTerminationSignals()),
      client_(config, clientOptions),
      host_(client_, std::move(hostOptions), runtime::stderrLogSink(logFormat)) {
  host_.log("", WOP_LOG_INFO, "connected to " + config.server + " (" + config.source + ")");
}

bool HostProcess::waitForTermination(std::chrono::milliseconds timeout) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout - seconds);
  const timespec wait{static_cast<time_t>(seconds.count()), static_cast<long>(nanoseconds.count())};
  const int signal = sigtimedwait(&signals_, nullptr, &wait);
  return signal == SIGINT || signal == SIGTERM;
}

}  // namespace wop::server
