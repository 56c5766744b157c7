#include "actors/restart_pause.hpp"

#include <algorithm>

namespace sluice::actors {

std::chrono::milliseconds restart_pause(int failures_in_a_row) {
  constexpr std::chrono::milliseconds kFirst{1000};
  constexpr std::chrono::milliseconds kMost{60'000};
  constexpr int kDoublings = 6;  // 64 s, past the cap: more would only overflow
  const int doublings = std::clamp(failures_in_a_row - 1, 0, kDoublings);
  return std::min(kFirst * (1 << doublings), kMost);
}

}  // namespace sluice::actors
