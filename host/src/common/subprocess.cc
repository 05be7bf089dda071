#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

namespace wop::common {
namespace {

using SteadyClock = std::chrono::steady_clock;

// How often to look whether a child that closed its pipes has exited.
constexpr std::chrono::milliseconds kReapPollInterval{5};
constexpr size_t kReadChunkBytes = 16u << 10;

std::string errnoText(const std::string& what) { return what + ": " + std::strerror(errno); }

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool isOpen() const { return fd_ >= 0; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> makePipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status(StatusCode::kUnavailable, errnoText("pipe"));
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// posix_spawn's C handles, destroyed on every path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// A spawned child that is killed (with its process group) and reaped unless it was reaped.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (!reaped_) killAndReap();
  }

  void killAndReap() {
    ::kill(-pid_, SIGKILL);
    waitBlocking();
  }
  // True once the child has exited (or cannot be waited for: SIGCHLD ignored).
  bool tryReap() {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    while (r < 0 && errno == EINTR) r = ::waitpid(pid_, &status, WNOHANG);
    if (r == 0) return false;
    reaped_ = true;
    statusKnown_ = r == pid_;
    status_ = status;
    return true;
  }
  bool statusKnown() const { return statusKnown_; }
  int status() const { return status_; }

 private:
  void waitBlocking() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    status_ = status;
  }

  pid_t pid_;
  bool reaped_ = false;
  bool statusKnown_ = false;
  int status_ = 0;
};

std::vector<char*> cStrings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

Result<pid_t> spawn(const SubprocessOptions& options, const Pipe& out, const Pipe& err) {
  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, out.write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, err.write.get(), STDERR_FILENO);
  // Own process group (so a timeout kills grandchildren too), nothing blocked, SIGPIPE
  // default even if this process ignores it.
  sigset_t none;
  sigset_t defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &defaults);

  std::vector<std::string> argvStrings{options.command};
  argvStrings.insert(argvStrings.end(), options.args.begin(), options.args.end());
  std::vector<std::string> envStrings = options.env;
  std::vector<char*> argv = cStrings(argvStrings);
  std::vector<char*> envp = cStrings(envStrings);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, options.command.c_str(), &setup.actions, &setup.attr,
                                argv.data(), envp.data());
  if (rc != 0) {
    const StatusCode code = (rc == ENOENT) ? StatusCode::kNotFound : StatusCode::kUnavailable;
    return Status(code, "cannot run " + options.command + ": " + std::strerror(rc));
  }
  return pid;
}

// Reads what is available on fd into text (up to cap; beyond it, counts overflow). Closes fd
// at end of file.
void drain(UniqueFd& fd, std::string& text, size_t cap, bool& overflowed) {
  char buffer[kReadChunkBytes];
  const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    fd.reset();
    return;
  }
  const size_t room = cap > text.size() ? cap - text.size() : 0;
  text.append(buffer, std::min(room, static_cast<size_t>(n)));
  if (static_cast<size_t>(n) > room) overflowed = true;
}

int remainingMillis(SteadyClock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

Status timedOut(const SubprocessOptions& options) {
  return Status(StatusCode::kDeadlineExceeded, options.command + " did not finish within " +
                                                   std::to_string(options.timeout.count()) +
                                                   " ms and was killed");
}

}  // namespace

Result<SubprocessResult> runSubprocess(const SubprocessOptions& options) {
  auto out = makePipe();
  if (!out) return out.status();
  auto err = makePipe();
  if (!err) return err.status();
  auto pid = spawn(options, *out, *err);
  if (!pid) return pid.status();
  Child child(*pid);
  out->write.reset();
  err->write.reset();

  const auto deadline = SteadyClock::now() + options.timeout;
  SubprocessResult result;
  bool stdoutOverflow = false;
  bool stderrOverflow = false;
  while (out->read.isOpen() || err->read.isOpen()) {
    pollfd fds[2] = {{out->read.get(), POLLIN, 0}, {err->read.get(), POLLIN, 0}};
    const int ready = ::poll(fds, 2, remainingMillis(deadline));
    if (ready < 0 && errno != EINTR) return Status(StatusCode::kUnavailable, errnoText("poll"));
    if (ready == 0) return timedOut(options);  // child's destructor kills it
    if (fds[0].revents != 0) {
      drain(out->read, result.stdoutText, options.maxStdoutBytes, stdoutOverflow);
    }
    if (fds[1].revents != 0) {
      drain(err->read, result.stderrText, options.maxStderrBytes, stderrOverflow);
    }
    if (stdoutOverflow) {
      return Status(StatusCode::kResourceExhausted, options.command + " wrote more than " +
                                                        std::to_string(options.maxStdoutBytes) +
                                                        " bytes to stdout");
    }
  }
  // Both pipes are closed; the child has exited or is about to (or closed them on purpose).
  while (!child.tryReap()) {
    if (SteadyClock::now() >= deadline) return timedOut(options);
    std::this_thread::sleep_for(kReapPollInterval);
  }
  if (!child.statusKnown()) {
    return Status(StatusCode::kUnavailable, options.command + ": exit status is unknown");
  }
  if (WIFEXITED(child.status())) result.exitCode = WEXITSTATUS(child.status());
  if (WIFSIGNALED(child.status())) result.termSignal = WTERMSIG(child.status());
  return result;
}

}  // namespace wop::common
