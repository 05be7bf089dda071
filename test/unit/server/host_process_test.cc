#include "server/host_process.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <chrono>

namespace wop::server {
namespace {

using std::chrono::milliseconds;

// Restores the calling thread's signal mask, which HostProcess changes, when the test ends.
class SignalMaskGuard {
 public:
  SignalMaskGuard() { pthread_sigmask(SIG_SETMASK, nullptr, &saved_); }
  ~SignalMaskGuard() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

 private:
  sigset_t saved_;
};

// A client that never connects: nothing here sends a request.
kube::ClientConfig unreachableCluster() {
  kube::ClientConfig config;
  config.server = "https://127.0.0.1:1";
  config.source = "test";
  return config;
}

runtime::HostOptions oneWorker() {
  runtime::HostOptions options;
  options.workers = 1;
  return options;
}

TEST(HostProcess, WaitsForTerminationUntilItsTimeout) {
  SignalMaskGuard guard;
  HostProcess process(unreachableCluster(), {}, oneWorker());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(process.waitForTermination(milliseconds(20)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(20));
  EXPECT_EQ(process.host().workerCount(), 1);
}

TEST(HostProcess, TakesSigtermAndSigintAsSignalsToWaitForNotToDieOf) {
  SignalMaskGuard guard;
  HostProcess process(unreachableCluster(), {}, oneWorker());
  for (int signal : {SIGTERM, SIGINT}) {
    // Blocked in this thread, so it stays pending until the wait takes it.
    ASSERT_EQ(pthread_kill(pthread_self(), signal), 0);
    EXPECT_TRUE(process.waitForTermination(milliseconds(1000))) << signal;
  }
  EXPECT_FALSE(process.waitForTermination(milliseconds(1)));  // each was taken once
}

}  // namespace
}  // namespace wop::server
