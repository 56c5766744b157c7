#pragma once
// The run events Sluice writes itself (run_start, run_resume, run_end), in the
// shapes of Flue's 0.10 server, and the run's owner as every run answer names
// it. A run is its own instance: its instanceId is its runId.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "persistence/records.hpp"

namespace sluice::actors {

// {"kind":"workflow","workflowName","instanceId"}
nlohmann::json run_owner_json(const persistence::RunRecord& run);

nlohmann::json run_start_event(const persistence::RunRecord& run);
// What a run cut short by its node's death shows before its run_end.
nlohmann::json run_resume_event(const persistence::RunRecord& run, int64_t now_ms);
nlohmann::json run_end_event(const persistence::RunRecord& run,
                             const persistence::RunEnding& ending);

}  // namespace sluice::actors
