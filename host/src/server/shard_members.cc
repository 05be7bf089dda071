#include "server/shard_members.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace wop::server {

namespace {

constexpr size_t kMaxObjectName = 253;

std::string shardPrefix(const std::string& prefix) { return prefix + "-shard-"; }
std::string memberPrefix(const std::string& prefix) { return prefix + "-member-"; }

}  // namespace

std::string shardLeaseName(const std::string& prefix, int shard) {
  return shardPrefix(prefix) + std::to_string(shard);
}

std::optional<int> shardOfLeaseName(const std::string& prefix, const std::string& name,
                                    int shards) {
  const std::string start = shardPrefix(prefix);
  if (name.size() <= start.size() || name.compare(0, start.size(), start) != 0) return {};
  const char* first = name.data() + start.size();
  const char* last = name.data() + name.size();
  int shard = -1;
  const auto [end, error] = std::from_chars(first, last, shard);
  if (error != std::errc() || end != last || shard < 0 || shard >= shards) return {};
  if (std::to_string(shard) != std::string(first, last)) return {};  // no "01" or "+1"
  return shard;
}

std::string memberLeaseName(const std::string& prefix, const std::string& identity) {
  std::string name = memberPrefix(prefix);
  for (const unsigned char c : identity) {
    name += std::isalnum(c) ? static_cast<char>(std::tolower(c)) : '-';
  }
  if (name.size() > kMaxObjectName) name.resize(kMaxObjectName);
  while (!name.empty() && name.back() == '-') name.pop_back();  // must end alphanumeric
  return name;
}

bool isMemberLeaseName(const std::string& prefix, const std::string& name) {
  const std::string start = memberPrefix(prefix);
  return name.size() > start.size() && name.compare(0, start.size(), start) == 0;
}

int fairShare(int shards, int alive) {
  if (alive < 1) alive = 1;
  return std::max(1, (shards + alive - 1) / alive);
}

void ShardMembers::observe(const std::string& name, const std::string& resourceVersion,
                           const std::string& holder, std::chrono::seconds duration,
                           common::TimePoint now) {
  if (name == self_) return;
  Seen& seen = members_[name];
  if (seen.resourceVersion == resourceVersion && seen.changedAt != common::TimePoint{}) return;
  seen = Seen{resourceVersion, !holder.empty(), duration, now};
}

void ShardMembers::forget(const std::string& name) { members_.erase(name); }

int ShardMembers::alive(common::TimePoint now) const {
  int alive = 1;
  for (const auto& [name, seen] : members_) {
    if (seen.held && seen.changedAt + seen.duration > now) ++alive;
  }
  return alive;
}

std::vector<std::string> ShardMembers::stale(common::TimePoint now,
                                             common::Duration staleAfter) const {
  std::vector<std::string> out;
  for (const auto& [name, seen] : members_) {
    const auto lastAlive = seen.held ? seen.changedAt + seen.duration : seen.changedAt;
    if (now - lastAlive > staleAfter) out.push_back(name);
  }
  return out;
}

}  // namespace wop::server
