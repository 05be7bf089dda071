#include "kube/credentials.h"

#include <sys/stat.h>

#include <mutex>
#include <optional>
#include <utility>

#include "common/file.h"
#include "common/limits.h"
#include "kube/exec_credential.h"

namespace wop::kube {
namespace {

using common::Result;
using common::Status;
using common::StatusCode;

// kubelet rotates projected ServiceAccount tokens well before they expire; client-go re-reads
// the file once a minute, and so do we, in case a change keeps the same size and mtime.
constexpr std::chrono::seconds kTokenFileRereadPeriod{60};

class StaticCredentialSource final : public CredentialSource {
 public:
  explicit StaticCredentialSource(Credentials credentials) : credentials_(std::move(credentials)) {}
  Result<Credentials> get() override { return credentials_; }
  void invalidate() override {}  // nothing cached: a 401 here needs a new kubeconfig

 private:
  const Credentials credentials_;
};

std::string trimmed(const std::string& text) {
  const char* kSpace = " \t\r\n";
  const size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(kSpace) - begin + 1);
}

// Re-reads a token file when it changed (mtime or size) or once a period; if a re-read fails
// (the file is being replaced, or gone for a moment) the last good token stays in use.
class TokenFileCredentialSource final : public CredentialSource {
 public:
  TokenFileCredentialSource(const ClientConfig& config, common::Clock& clock)
      : path_(config.tokenFile), clock_(clock), lastRead_(clock.now()) {
    current_.bearerToken = config.bearerToken;
    current_.clientCertPem = config.clientCertPem;
    current_.clientKeyPem = config.clientKeyPem;
    stamp_ = stampOf(path_);
    forceReread_ = current_.bearerToken.empty();
  }

  Result<Credentials> get() override {
    std::lock_guard lock(mutex_);
    const std::optional<FileStamp> stamp = stampOf(path_);
    if (isDue(stamp)) reread(stamp);
    if (current_.bearerToken.empty()) {
      return Status(StatusCode::kUnavailable, "token file " + path_ + ": " + lastError_);
    }
    return current_;
  }

  void invalidate() override {
    std::lock_guard lock(mutex_);
    forceReread_ = true;
  }

 private:
  struct FileStamp {
    int64_t mtimeNanos = 0;
    int64_t size = 0;
    bool operator==(const FileStamp&) const = default;
  };

  static std::optional<FileStamp> stampOf(const std::string& path) {
    struct stat info{};
    if (::stat(path.c_str(), &info) != 0) return std::nullopt;
    return FileStamp{int64_t(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec,
                     int64_t(info.st_size)};
  }

  bool isDue(const std::optional<FileStamp>& stamp) const {
    return forceReread_ || !stamp || stamp != stamp_ ||
           clock_.now() - lastRead_ >= kTokenFileRereadPeriod;
  }

  void reread(const std::optional<FileStamp>& stamp) {
    auto bytes = common::readFileBytes(path_, limits::kMaxKubeconfigBytes);
    if (!bytes) {
      lastError_ = bytes.status().message();
      return;
    }
    std::string token = trimmed(std::string(bytes->begin(), bytes->end()));
    if (token.empty()) {
      lastError_ = "the file is empty";
      return;
    }
    current_.bearerToken = std::move(token);
    stamp_ = stamp;
    lastRead_ = clock_.now();
    forceReread_ = false;
  }

  const std::string path_;
  common::Clock& clock_;
  std::mutex mutex_;
  Credentials current_;
  std::optional<FileStamp> stamp_;
  common::TimePoint lastRead_;
  bool forceReread_ = false;
  std::string lastError_ = "no token read yet";
};

// Runs the plugin when there is no cached credential or it has expired (by wall time, as the
// plugin's expirationTimestamp is); invalidate() forgets it. The mutex is held while the plugin
// runs so that concurrent callers wait for one run instead of starting several.
class ExecCredentialSource final : public CredentialSource {
 public:
  ExecCredentialSource(const ClientConfig& config, common::Clock& clock)
      : plugin_(config), clock_(clock) {
    fallback_.clientCertPem = config.clientCertPem;
    fallback_.clientKeyPem = config.clientKeyPem;
  }

  Result<Credentials> get() override {
    std::lock_guard lock(mutex_);
    if (cached_ && (!expiry_ || clock_.wallNow() < *expiry_)) return *cached_;
    auto fresh = plugin_.run();
    if (!fresh) return fresh.status();
    cached_ = withFallback(std::move(fresh->credentials));
    expiry_ = fresh->expiry;
    return *cached_;
  }

  void invalidate() override {
    std::lock_guard lock(mutex_);
    cached_.reset();
    expiry_.reset();
  }

 private:
  // A plugin that only returns a token still sends the kubeconfig's client certificate.
  Credentials withFallback(Credentials credentials) const {
    if (credentials.clientCertPem.empty()) {
      credentials.clientCertPem = fallback_.clientCertPem;
      credentials.clientKeyPem = fallback_.clientKeyPem;
    }
    return credentials;
  }

  const ExecPlugin plugin_;
  common::Clock& clock_;
  Credentials fallback_;
  std::mutex mutex_;
  std::optional<Credentials> cached_;
  std::optional<common::WallTime> expiry_;
};

}  // namespace

std::unique_ptr<CredentialSource> makeCredentialSource(const ClientConfig& config,
                                                       common::Clock& clock) {
  if (config.exec) return std::make_unique<ExecCredentialSource>(config, clock);
  if (!config.tokenFile.empty()) return std::make_unique<TokenFileCredentialSource>(config, clock);
  return std::make_unique<StaticCredentialSource>(
      Credentials{config.bearerToken, config.clientCertPem, config.clientKeyPem});
}

}  // namespace wop::kube
