#include "actors/run_events.hpp"

#include <algorithm>

#include "core/clock.hpp"
#include "core/stored_json.hpp"

namespace sluice::actors {
namespace {

// The fields every event naming its run's identity carries.
nlohmann::json run_identity(const char* type, const persistence::RunRecord& run, int64_t at_ms) {
  return {{"type", type},
          {"runId", run.run_id},
          {"timestamp", iso8601(at_ms)},
          {"owner", run_owner_json(run)},
          {"instanceId", run.run_id},
          {"workflowName", run.workflow_name},
          {"startedAt", iso8601(run.started_at_ms)}};
}

}  // namespace

nlohmann::json run_owner_json(const persistence::RunRecord& run) {
  return {{"kind", "workflow"}, {"workflowName", run.workflow_name}, {"instanceId", run.run_id}};
}

nlohmann::json run_start_event(const persistence::RunRecord& run) {
  nlohmann::json event = run_identity("run_start", run, run.started_at_ms);
  event["payload"] = nlohmann::json::parse(run.payload_json, nullptr, false);
  if (event["payload"].is_discarded()) event["payload"] = nullptr;
  return event;
}

nlohmann::json run_resume_event(const persistence::RunRecord& run, int64_t now_ms) {
  return run_identity("run_resume", run, now_ms);
}

nlohmann::json run_end_event(const persistence::RunRecord& run,
                             const persistence::RunEnding& ending) {
  return {{"type", "run_end"},
          {"runId", run.run_id},
          {"timestamp", iso8601(ending.ended_at_ms)},
          {"result", parsed_or_null(ending.result_json)},
          {"isError", ending.is_error},
          {"error", parsed_or_null(ending.error_json)},
          {"durationMs", std::max<int64_t>(0, ending.ended_at_ms - run.started_at_ms)}};
}

}  // namespace sluice::actors
