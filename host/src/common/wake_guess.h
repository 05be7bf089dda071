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

}  // namespace wop::common
