#pragma once
// The public JSON of runs (PROTOCOL.md "GET /runs/:runId" and "Events").
#include <nlohmann/json.hpp>

#include "persistence/records.hpp"

namespace sluice::workflows {

// runId, owner {kind, workflowName, instanceId}, status, startedAt, payload;
// once ended also endedAt, isError, durationMs, and result or error.
nlohmann::json run_record_json(const persistence::RunRecord& run);
// The stored event object with its eventIndex.
nlohmann::json run_event_json(const persistence::StoredRunEvent& event);

}  // namespace sluice::workflows
