#pragma once
// Phase timings: elapsed seconds on the monotonic clock, so a phase never reads negative when the
// system clock is adjusted.
#include <chrono>

namespace slmq {

using SteadyClock = std::chrono::steady_clock;

// Seconds from `start` to now.
inline double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

}  // namespace slmq
