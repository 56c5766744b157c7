#pragma once
// Wall-clock time as stored (milliseconds since the Unix epoch) and as shown
// (ISO 8601 UTC with milliseconds).
#include <cstdint>
#include <string>

namespace sluice {

int64_t now_ms();
// Monotonic nanoseconds, for measuring durations.
int64_t steady_now_ns();
std::string iso8601(int64_t unix_ms);

}  // namespace sluice
