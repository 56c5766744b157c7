#include "workflows/run_json.hpp"

#include "actors/run_events.hpp"
#include "core/clock.hpp"
#include "core/stored_json.hpp"

namespace sluice::workflows {
nlohmann::json run_record_json(const persistence::RunRecord& run) {
  nlohmann::json json = {
      {"runId", run.run_id},
      {"owner", actors::run_owner_json(run)},
      {"status", persistence::to_string(run.status)},
      {"startedAt", iso8601(run.started_at_ms)},
      {"payload", nlohmann::json::parse(run.payload_json, nullptr, false)},
  };
  // Flue's clients read the ending's fields as absent, not null, while the run
  // is active.
  if (run.status == persistence::RunStatus::active) return json;
  json["endedAt"] = iso8601(run.ended_at_ms);
  json["isError"] = run.is_error;
  json["durationMs"] = run.ended_at_ms - run.started_at_ms;
  if (run.is_error) {
    json["error"] = parsed_or_null(run.error_json);
  } else {
    json["result"] = parsed_or_null(run.result_json);
  }
  return json;
}

nlohmann::json run_event_json(const persistence::StoredRunEvent& event) {
  nlohmann::json json = nlohmann::json::parse(event.data_json, nullptr, false);
  if (!json.is_object()) json = nlohmann::json::object();
  json["eventIndex"] = event.event_index;
  return json;
}

}  // namespace sluice::workflows
