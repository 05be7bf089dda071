// A host-wide budget of resident guest memory (SwapOptions::memoryBudgetBytes). The idle timer
// keeps every operator resident for its idle period after each wake, whatever the host holds;
// with a budget, once the operators' resident linear memories and their shares of compiled
// code (an image mapped once for all operators with the same module) add up to more than it, the
// least recently active ones are asked to swap out as soon as they are idle, oldest first,
// until what stays resident fits. An operator's own idle timer and prediction still apply on
// top: the budget only brings swap-outs forward.
//
// An operator enrolls once with the callback that asks it to go (Operator::requestEviction: a
// flag and a wake-up), then reports from its worker at the end of each slice (0 once swapped
// out); nothing here touches a guest.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/clock.h"

namespace wop::runtime {

class MemoryBudget {
 public:
  using Evict = std::function<void()>;

  explicit MemoryBudget(uint64_t bytes) : budgetBytes_(bytes) {}

  // who counts from now on; evict asks it to swap out. Any thread.
  void enroll(const void* who, Evict evict);
  // An enrolled who's resident bytes now (0: swapped out) and when it last had work. Asks the
  // least recently active others over the budget to swap out. Any thread.
  void report(const void* who, uint64_t residentBytes, common::TimePoint lastActive);
  // Whether bytes more fit beside what is resident. A prefetch (a restore ahead of a predicted
  // change) asks first and only fills spare room: making room would send out the least
  // recently active, in a cyclic workload the operators due next: in the ring at N = 1000 most
  // prefetches were sent out again before their change came (docs/swap.md).
  bool hasRoomFor(uint64_t bytes) const;
  // who is gone (stopped or removed): its bytes no longer count.
  void forget(const void* who);

  uint64_t residentBytes() const;
  uint64_t evictionsRequested() const;
  // Over the budget with swap-outs asked for and not yet done: what a caller adding operators
  // waits for (OperatorHost::addAll), so that new operators do not outrun the swap-outs.
  bool catchingUp() const;

 private:
  struct Entry {
    uint64_t bytes = 0;
    common::TimePoint lastActive{};
    Evict evict;
    bool asked = false;  // asked to swap out, not yet reported back
  };
  // The entries to ask (least recently active first) so that the rest fit; mutex_ held.
  std::vector<Evict> victims(const void* reporter);

  const uint64_t budgetBytes_;
  mutable std::mutex mutex_;
  std::unordered_map<const void*, Entry> entries_;
  // The entries with resident bytes: victims() looks at these only, so a report costs the same
  // however many operators are swapped out (it scanned every entry, a cost per slice that grew
  // with the operator count: 6.6% of the host's CPU at N = 1000 under perf).
  std::unordered_set<const void*> resident_;
  uint64_t residentBytes_ = 0;
  uint64_t evictionsRequested_ = 0;
};

}  // namespace wop::runtime
