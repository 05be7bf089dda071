#include "server/event_spam_filter.h"

#include <algorithm>

namespace wop::server {

EventSpamFilter::EventSpamFilter(int burst, common::Duration refillEvery, size_t maxKeys)
    : burst_(std::max(1, burst)),
      refillEvery_(std::max(refillEvery, common::Duration(1))),
      maxKeys_(std::max<size_t>(1, maxKeys)) {}

double EventSpamFilter::tokensAt(const Bucket& bucket, common::TimePoint now) const {
  if (now <= bucket.counted) return bucket.tokens;
  const double earned = std::chrono::duration<double>(now - bucket.counted).count() /
                        std::chrono::duration<double>(refillEvery_).count();
  return std::min(burst_, bucket.tokens + earned);
}

void EventSpamFilter::makeRoom(common::TimePoint now) {
  auto oldest = buckets_.end();
  for (auto it = buckets_.begin(); it != buckets_.end(); ++it) {
    if (tokensAt(it->second, now) >= burst_) {
      buckets_.erase(it);  // full again: forgetting it changes nothing
      return;
    }
    if (oldest == buckets_.end() || it->second.used < oldest->second.used) oldest = it;
  }
  if (oldest != buckets_.end()) buckets_.erase(oldest);
}

bool EventSpamFilter::allow(const std::string& key, common::TimePoint now) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= maxKeys_) makeRoom(now);
    it = buckets_.emplace(key, Bucket{burst_, now, now}).first;
  }
  Bucket& bucket = it->second;
  bucket.tokens = tokensAt(bucket, now);
  bucket.counted = std::max(bucket.counted, now);
  bucket.used = now;
  if (bucket.tokens < 1) return false;
  bucket.tokens -= 1;
  return true;
}

}  // namespace wop::server
