#pragma once
// How long the router waits before bringing back a session actor that failed.
// A failure that repeats (storage refusing the session's claim, say) is
// retried less and less often, never dropped: accepted work must reach an
// outcome, and a minute between attempts keeps a stuck session cheap.
#include <chrono>

namespace sluice::actors {

// One second after the first failure in a row, doubling, at most a minute.
std::chrono::milliseconds restart_pause(int failures_in_a_row);

}  // namespace sluice::actors
