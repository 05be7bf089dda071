// A host-wide budget of resident guest memory (SwapOptions::memoryBudgetBytes). The idle timer
// keeps every operator resident for its idle period after each wake, whatever the host holds;
// with a budget, once the operators' resident linear memories and their shares of compiled
// code (an image mapped once for all operators with the same module) add up to more than it,
// those whose next wake is furthest away are asked to swap out as soon as they are idle, until
// what stays resident fits. The next wake is the wake predictor's guess where it has one, and
// otherwise taken to be as far ahead as the operator has been quiet (so without predictions
// this is least recently active first). Pure recency was the worst case of a cyclic workload:
// in the ring at N = 100 it always sent out the operator due next, and 12,046 of 12,100 hops
// had to restore. An operator's own idle timer and prediction still apply on top: the budget
// only brings swap-outs forward.
//
// An operator enrolls once with the callback that asks it to go (Operator::requestEviction: a
// flag and a wake-up), then reports from its worker at the end of each slice (0 once swapped
// out); nothing here touches a guest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/clock.h"

namespace wop::runtime {

class MemoryBudget {
 public:
  using Evict = std::function<void()>;

  explicit MemoryBudget(uint64_t bytes) : budgetBytes_(bytes) {}

  struct Activity {
    common::TimePoint lastActive{};                   // when it last had work
    std::optional<common::TimePoint> expectedWake{};  // WakePredictor::expectedWake
    // Work queued or in flight: it could not go now, so it is not asked (asking only made it
    // run slices to say no); it reports again when its work is done.
    bool busy = false;
    // Swapped out: what a restore would make resident again (0 while resident). With an
    // expected wake, it is due to come back then, and a prefetch of an operator due after it
    // leaves it the room (roomForPrefetch).
    uint64_t restoreBytes = 0;
  };

  // who counts from now on; evict asks it to swap out. Any thread.
  void enroll(const void* who, Evict evict);
  // An enrolled who's resident bytes now (0: swapped out) and its activity, at now. Over the
  // budget, asks those not busy whose next wake is furthest from now to swap out, who itself
  // included unless no other is due sooner. Any thread.
  void report(const void* who, uint64_t residentBytes, const Activity& activity,
              common::TimePoint now);
  // Whether who may restore bytes ahead of a change predicted at wakeAt (a prefetch): the
  // budget holds them beside every operator due sooner, resident or swapped out and due back
  // before wakeAt. Making room may send out operators already asked and idle ones due later
  // (the next report asks them, furthest first), never one due sooner: that would trade a
  // prefetch for a restore on the path of an earlier change. Spare room only was the rule under
  // the old least-recently-active order, where making room sent out the very operators due
  // next; with the next-wake order it left most prefetches undone once the budget was full
  // (the ring at N = 1000 at the defaults, bench/results/scale.json at commit 72d0034: 8,891
  // skipped, 882 done, 12,276 of 13,000 changes restored on their path). Counting the swapped
  // out due sooner sizes a prefetch window to what the budget holds: without them, a window
  // wider than the budget (four deviations of a noisy interval, seconds) let an operator in
  // early, and one due sooner sent it out again before its change (3,895 of 6,604 prefetches
  // in the same ring). The swapped out whose guess has passed count too while they are due any
  // moment (late by no more than the wait they predicted), as resident ones do in victims():
  // left out, a ring running behind its predictions let prefetches in beside every operator
  // between the token and them, which then came back on their changes and sent the prefetched
  // out unused (N = 10,000 at the defaults, bench/results/scale.json at ba9633f: 27,086 of the
  // 27,123 prefetches wasted were sent out by the budget).
  bool roomForPrefetch(const void* who, uint64_t bytes, common::TimePoint wakeAt,
                       common::TimePoint now) const;
  // who is gone (stopped or removed): its bytes no longer count.
  void forget(const void* who);

  uint64_t residentBytes() const;
  uint64_t evictionsRequested() const;
  // Over the budget with swap-outs asked for and not yet done: what a caller adding operators
  // waits for (OperatorHost::addAll), so that new operators do not outrun the swap-outs.
  bool catchingUp() const;

 private:
  // Each swapped-out operator with its restore bytes beside it: a prefetch's scan reads them
  // without a lookup per entry (it read up to a few hundred per call at N = 1000).
  struct DueBack {
    const void* who;
    uint64_t restoreBytes;
    common::TimePoint since;  // its last activity: where the wait its guess predicts began
  };
  using ByWake = std::multimap<common::TimePoint, DueBack>;
  struct Entry {
    uint64_t bytes = 0;
    Activity activity;
    Evict evict;
    bool asked = false;                                // asked to swap out, not yet reported back
    std::optional<ByWake::iterator> swappedOutByWake;  // its place in swappedOut_
  };
  // Keeps who's place in swappedOut_ up to its activity; mutex_ held.
  void indexSwappedOut(const void* who, Entry& entry);
  // The entries to ask (next wake furthest from now first) so that the rest fit; mutex_ held.
  std::vector<Evict> victims(const void* reporter, common::TimePoint now);

  const uint64_t budgetBytes_;
  mutable std::mutex mutex_;
  std::unordered_map<const void*, Entry> entries_;
  // The entries with resident bytes: victims() looks at these only, so a report costs the same
  // however many operators are swapped out (it scanned every entry, a cost per slice that grew
  // with the operator count: 6.6% of the host's CPU at N = 1000 under perf). Each with its entry
  // (entries_ is node-based: the pointer stays valid until the entry is erased), so a scan makes
  // no lookup per operator.
  std::unordered_map<const void*, Entry*> resident_;
  // The swapped out with an expected wake, soonest first: a prefetch reads only those due
  // before its own change, and stops once the budget is spoken for.
  ByWake swappedOut_;
  // How many of the overdue (guess passed) a prefetch reads, nearest first: they are the ones
  // likeliest to be due any moment, and guesses that never came true (operators gone quiet)
  // pile up behind them; read whole, every prefetch would cost as many steps as there are.
  static constexpr size_t kMaxOverdueRead = 512;
  uint64_t residentBytes_ = 0;
  uint64_t evictionsRequested_ = 0;
};

}  // namespace wop::runtime
