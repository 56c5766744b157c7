#pragma once
// The response shapes of Flue's 0.10 server, as its own client (@flue/sdk
// 0.10) and its server-side schemas accept them: every field that server
// always sends, with its name and JSON type, and the exact sets of event
// types and WebSocket message fields. Each check returns the problems found
// (empty when the value has the shape), each naming the path of the field, so
// a failing test says what differs.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::test::flue {

using Problems = std::vector<std::string>;

// The event types an agent stream may carry (no run_* events).
const std::vector<std::string>& agent_event_types();

// An event of an agent prompt's SSE stream or agent socket: a known agent
// type with its required fields, the instanceId, and never a runId.
Problems agent_event(const nlohmann::json& event, const std::string& instance_id);
// An event of a workflow run (run events included), as a run's socket or SSE
// stream carries it; `persisted` adds what GET /runs/:runId/events requires
// (runId and a non-negative eventIndex on every event).
Problems run_event(const nlohmann::json& event, bool persisted);
// {type, message, details, dev?, meta?}
Problems public_error(const nlohmann::json& error);
// The data of an agent stream's `event: error` frame: {type:"error", instanceId, error}.
Problems agent_stream_error(const nlohmann::json& data, const std::string& instance_id);

// Every message of an agent socket / a workflow socket, with its exact fields
// (extension fields of ours are named in the implementation).
Problems agent_socket_message(const nlohmann::json& message, const std::string& name,
                              const std::string& instance_id);
Problems workflow_socket_message(const nlohmann::json& message, const std::string& name);

Problems run_record(const nlohmann::json& record);
Problems run_pointer(const nlohmann::json& summary);
// GET /admin/agents and GET /admin/runs.
Problems agent_list(const nlohmann::json& body);
Problems run_list(const nlohmann::json& body);

}  // namespace sluice::test::flue
