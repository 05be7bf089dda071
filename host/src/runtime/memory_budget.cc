#include "runtime/memory_budget.h"

#include <algorithm>
#include <iterator>

#include "common/wake_guess.h"

namespace wop::runtime {

void MemoryBudget::enroll(const void* who, Evict evict) {
  std::lock_guard lock(mutex_);
  entries_[who].evict = std::move(evict);
}

namespace {

// How far ahead the next wake is taken to be: the guess's distance from now. Without a guess
// the last activity stands in: quiet for a while, quiet for as long again. An overdue guess is
// due any moment until it is late by as long as the wait it predicted, and after that is judged
// the same way by how much later it is. (Taken as far ahead as it was late, a ring operator a
// few ms late, the very next to run, went out before those due a few ms after it: with the
// budget full of prefetched operators at N = 1000, most prefetches were sent out unused.)
common::Duration untilNextWake(common::TimePoint guess, common::TimePoint since,
                               common::TimePoint now) {
  if (guess >= now) return guess - now;
  return common::lateBeyondItsWait(guess, since, now);
}

common::Duration untilNextWake(const MemoryBudget::Activity& activity, common::TimePoint now) {
  return untilNextWake(activity.expectedWake.value_or(activity.lastActive), activity.lastActive,
                       now);
}

}  // namespace

void MemoryBudget::report(const void* who, uint64_t residentBytes, const Activity& activity,
                          common::TimePoint now) {
  std::vector<Evict> toAsk;
  {
    std::lock_guard lock(mutex_);
    auto found = entries_.find(who);
    if (found == entries_.end()) return;  // not enrolled, or forgotten (stopped)
    auto& entry = found->second;
    residentBytes_ = residentBytes_ - entry.bytes + residentBytes;
    entry.bytes = residentBytes;
    if (residentBytes > 0) {
      resident_.emplace(who, &entry);
    } else {
      resident_.erase(who);
    }
    entry.activity = activity;
    entry.asked = false;  // it has settled: swapped out, or still busy and may be asked again
    indexSwappedOut(who, entry);
    if (residentBytes_ > budgetBytes_) toAsk = victims(who, now);
  }
  // Outside the lock: a callback wakes its operator, which may report on another thread.
  for (auto& ask : toAsk) ask();
}

std::vector<MemoryBudget::Evict> MemoryBudget::victims(const void* reporter,
                                                       common::TimePoint now) {
  std::vector<std::pair<common::Duration, Entry*>> resident;
  uint64_t pending = 0;  // bytes of operators already asked: they are on their way out
  for (auto& [_, residentEntry] : resident_) {
    auto& entry = *residentEntry;
    if (entry.asked) {
      pending += entry.bytes;
    } else if (!entry.activity.busy) {
      resident.emplace_back(untilNextWake(entry.activity, now), &entry);
    }
  }
  std::sort(resident.begin(), resident.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  // The reporter too, but only in place of one due sooner. An operator that has just run is,
  // in a cycle, the one due furthest ahead; spared, it sent out a prefetched operator due
  // sooner in its place (ring N = 1000 at the defaults: 5,600 of 6,097 prefetches went out
  // unused, by the budget, more than a second before their change). Due soonest of all (alone,
  // or just run with no guess), it stays, as a lone operator over a small budget did.
  const Entry* reporterEntry = &entries_.at(reporter);
  const auto mine = std::find_if(resident.begin(), resident.end(),
                                 [&](const auto& c) { return c.second == reporterEntry; });
  if (mine != resident.end() && mine->first <= resident.back().first) resident.erase(mine);
  std::vector<Evict> toAsk;
  uint64_t staying = residentBytes_ - pending;
  for (auto& [until, entry] : resident) {
    if (staying <= budgetBytes_) break;
    entry->asked = true;
    staying -= entry->bytes;
    evictionsRequested_++;
    toAsk.push_back(entry->evict);
  }
  return toAsk;
}

void MemoryBudget::indexSwappedOut(const void* who, Entry& entry) {
  if (entry.swappedOutByWake) swappedOut_.erase(*entry.swappedOutByWake);
  entry.swappedOutByWake.reset();
  const auto& activity = entry.activity;
  if (activity.restoreBytes > 0 && activity.expectedWake) {
    entry.swappedOutByWake = swappedOut_.emplace(
        *activity.expectedWake, DueBack{who, activity.restoreBytes, activity.lastActive});
  }
}

void MemoryBudget::forget(const void* who) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(who);
  if (it == entries_.end()) return;
  residentBytes_ -= it->second.bytes;
  resident_.erase(who);
  if (it->second.swappedOutByWake) swappedOut_.erase(*it->second.swappedOutByWake);
  entries_.erase(it);
}

bool MemoryBudget::roomForPrefetch(const void* who, uint64_t bytes, common::TimePoint wakeAt,
                                   common::TimePoint now) const {
  std::lock_guard lock(mutex_);
  const common::Duration untilMine = wakeAt > now ? wakeAt - now : common::Duration::zero();
  uint64_t needed = bytes;  // who's and those of everyone due sooner
  for (const auto& [other, residentEntry] : resident_) {
    const auto& entry = *residentEntry;
    if (other == who) {  // code it holds while out (shared with others) stays, of course
      needed += entry.bytes;
      continue;
    }
    // The busy stay: the next report would not ask them (victims), so the prefetched operator,
    // due further than the rest, would be sent out in their place. Counting them as leaving,
    // 6,916 of 9,817 prefetches went out by the budget unused (ring N = 1000 at the defaults).
    if (!entry.asked && (entry.activity.busy || untilNextWake(entry.activity, now) <= untilMine)) {
      needed += entry.bytes;
      // needed only grows: once over, no later entry makes room (this scan was the host's
      // costliest function of its own at N = 1000 in the ring, 2.4% of its CPU under perf).
      if (needed > budgetBytes_) return false;
    }
  }
  const auto dueFromNow = swappedOut_.lower_bound(now);
  for (auto it = dueFromNow; it != swappedOut_.end() && it->first < wakeAt; ++it) {
    if (needed > budgetBytes_) return false;  // spoken for: the rest need not be read
    if (it->second.who != who) needed += it->second.restoreBytes;
  }
  // The overdue, nearest first, judged by the rule victims() applies to resident ones.
  size_t read = 0;
  for (auto it = std::make_reverse_iterator(dueFromNow);
       it != swappedOut_.rend() && read < kMaxOverdueRead; ++it, ++read) {
    if (needed > budgetBytes_) return false;
    const auto& due = it->second;
    if (due.who != who && untilNextWake(it->first, due.since, now) <= untilMine) {
      needed += due.restoreBytes;
    }
  }
  return needed <= budgetBytes_;
}

uint64_t MemoryBudget::residentBytes() const {
  std::lock_guard lock(mutex_);
  return residentBytes_;
}

bool MemoryBudget::catchingUp() const {
  std::lock_guard lock(mutex_);
  if (residentBytes_ <= budgetBytes_) return false;
  for (const auto& [_, entry] : resident_) {
    if (entry->asked) return true;
  }
  return false;
}

uint64_t MemoryBudget::evictionsRequested() const {
  std::lock_guard lock(mutex_);
  return evictionsRequested_;
}

}  // namespace wop::runtime
