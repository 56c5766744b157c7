#include "workflows/run_json.hpp"

#include "core/clock.hpp"

namespace sluice::workflows {
namespace {

nlohmann::json parsed_or_null(const std::optional<std::string>& text) {
  if (!text) return nullptr;
  return nlohmann::json::parse(*text, nullptr, false);
}

}  // namespace

nlohmann::json run_record_json(const persistence::RunRecord& run) {
  const bool ended = run.status != persistence::RunStatus::active;
  return {
      {"runId", run.run_id},
      {"owner", {{"kind", "workflow"}, {"workflowName", run.workflow_name}}},
      {"status", persistence::to_string(run.status)},
      {"startedAt", iso8601(run.started_at_ms)},
      {"payload", nlohmann::json::parse(run.payload_json, nullptr, false)},
      {"endedAt", ended ? nlohmann::json(iso8601(run.ended_at_ms)) : nlohmann::json(nullptr)},
      {"isError", run.is_error},
      {"durationMs", ended ? nlohmann::json(run.ended_at_ms - run.started_at_ms)
                           : nlohmann::json(nullptr)},
      {"result", parsed_or_null(run.result_json)},
      {"error", parsed_or_null(run.error_json)},
  };
}

nlohmann::json run_event_json(const persistence::StoredRunEvent& event) {
  nlohmann::json json = nlohmann::json::parse(event.data_json, nullptr, false);
  if (!json.is_object()) json = nlohmann::json::object();
  json["eventIndex"] = event.event_index;
  return json;
}

}  // namespace sluice::workflows
