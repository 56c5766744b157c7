#include "actors/session_events.hpp"

#include "core/clock.hpp"

namespace sluice::actors {

nlohmann::json agent_event(const std::string& type, const persistence::SubmissionRecord& record,
                           nlohmann::json fields) {
  fields["type"] = type;
  fields["timestamp"] = iso8601(now_ms());
  fields["instanceId"] = record.key.instance;
  fields["session"] = record.key.session;
  fields["submissionId"] = record.id;
  if (!record.dispatch_id.empty()) fields["dispatchId"] = record.dispatch_id;
  return fields;
}

}  // namespace sluice::actors
