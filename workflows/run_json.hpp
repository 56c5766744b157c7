#pragma once
// The public JSON of runs (PROTOCOL.md "GET /runs/:runId" and "Events").
#include <nlohmann/json.hpp>

#include "persistence/records.hpp"

namespace sluice::workflows {

// runId, owner {kind, workflowName}, status, startedAt, payload, endedAt,
// isError, durationMs, result, error (null where they do not apply yet).
nlohmann::json run_record_json(const persistence::RunRecord& run);
// The stored event object with its eventIndex.
nlohmann::json run_event_json(const persistence::StoredRunEvent& event);

}  // namespace sluice::workflows
