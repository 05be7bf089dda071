// When something is due back: a guess (the wake predictor's; nullopt without one), made at now.
// What the runtime tells the layers below it that keep things for a swapped-out operator
// (ModuleCache::park), so they keep those due soonest.
#pragma once

#include <optional>

#include "common/clock.h"

namespace wop::common {

struct WakeGuess {
  std::optional<TimePoint> at;
  TimePoint now{};
};

// How much later than guess it is at now, beyond the wait the guess predicted (from since, when
// the wait began); zero while it is not that late. A guess a little late is due any moment; one
// late by more than its own wait did not come true. The memory budget and the module cache
// judge overdue guesses by this one rule.
inline Duration lateBeyondItsWait(TimePoint guess, TimePoint since, TimePoint now) {
  if (now <= guess) return Duration::zero();
  const Duration predictedWait = guess > since ? guess - since : Duration::zero();
  const Duration late = now - guess;
  return late > predictedWait ? late - predictedWait : Duration::zero();
}

}  // namespace wop::common
