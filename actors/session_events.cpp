#include "actors/session_events.hpp"

#include "core/clock.hpp"

namespace sluice::actors {

std::string operation_id(const persistence::SubmissionRecord& record) {
  return "op_" + record.id.substr(record.id.find('_') + 1);
}

nlohmann::json operation_outcome(const persistence::SubmissionRecord& record) {
  nlohmann::json fields = {{"kind", "prompt"},
                           {"isError", record.state != persistence::SubmissionState::completed},
                           {"durationMs", record.settled_at_ms - record.started_at_ms}};
  const auto& value = record.result_json ? record.result_json : record.error_json;
  if (value) fields[record.result_json ? "result" : "error"] = nlohmann::json::parse(*value);
  return fields;
}

nlohmann::json agent_event(const std::string& type, const persistence::SubmissionRecord& record,
                           nlohmann::json fields) {
  fields["type"] = type;
  fields["timestamp"] = iso8601(now_ms());
  fields["instanceId"] = record.key.instance;
  fields["session"] = record.key.session;
  fields["submissionId"] = record.id;
  fields["operationId"] = operation_id(record);
  if (!record.dispatch_id.empty()) fields["dispatchId"] = record.dispatch_id;
  return fields;
}

}  // namespace sluice::actors
