#pragma once
// How a workflow run whose node was lost is ended: never replayed, it gets a
// run_resume event (another node took it up) and an errored run_end, written
// with its ending in one fenced append (PROTOCOL.md "Events").
#include <cstdint>
#include <vector>

#include "persistence/records.hpp"

namespace sluice::actors {

struct RunClosing {
  std::vector<persistence::NewRunEvent> events;  // run_resume, then run_end
  persistence::RunEnding ending;
};

RunClosing close_interrupted_run(const persistence::RunRecord& run, int64_t now_ms);

}  // namespace sluice::actors
