#include "net/openapi_operations.hpp"

#include <string>

#include "net/openapi_schemas.hpp"

namespace sluice::net::openapi {
namespace {

using nlohmann::json;

json typed(const char* type) {
  return {{"type", type}};
}

json session_property() {
  return {{"type", "string"},
          {"minLength", 1},
          {"maxLength", 512},
          {"default", "default"},
          {"description",
           "The session inside the agent instance; names starting with "
           "`task:` are reserved."}};
}

json session_query() {
  return query_parameter("session", "The session (default `default`).", session_property());
}

json idempotency_header() {
  return header_parameter(
      "Idempotency-Key",
      "A replay with the same key attaches to the same submission and gets its answer; the "
      "same key with another body answers 409 idempotency_conflict. Scoped to the agent "
      "instance.",
      {{"type", "string"}, {"minLength", 1}, {"maxLength", 256}});
}

json with_header(json response, const char* name, const char* description, json schema) {
  response["headers"][name] = {{"description", description}, {"schema", std::move(schema)}};
  return response;
}

json with_submission_header(json response) {
  return with_header(std::move(response), "X-Sluice-Submission-Id",
                     "The submission this answer is about.", typed("string"));
}

json overloaded() {
  return with_header(
      error_response("overloaded: the session's queue or the node's admission limit is full."),
      "Retry-After", "Seconds to wait before trying again.", typed("integer"));
}

json unavailable() {
  return error_response("unavailable: storage or the owning node is unreachable.");
}

json agent_not_found() {
  return error_response("agent_not_found: no HTTP-exposed agent has this name.");
}

// The errors of a route that reads a JSON body for an agent instance.
json body_errors() {
  return {{"400", error_response("invalid_json or invalid_request (body, session, instance id "
                                 "or Idempotency-Key).")},
          {"404", agent_not_found()},
          {"413", error_response("payload_too_large: the body exceeds the server's limit.")},
          {"415", error_response("unsupported_media_type: the body must be application/json.")},
          {"503", unavailable()}};
}

// The errors of a read of one agent instance's stored records.
json read_errors(const char* not_found) {
  return {{"400", error_response("invalid_request: a query parameter or the instance id.")},
          {"404", error_response(not_found)},
          {"503", unavailable()}};
}

json object(json properties, json required) {
  return {
      {"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)}};
}

json page(const char* field, const char* item) {
  return object({{field, {{"type", "array"}, {"items", schema_ref(item)}}},
                 {"next",
                  {{"type", "integer"},
                   {"description", "Present when the page is full: pass it as `after`."}}}},
                {field});
}

}  // namespace

json agent_prompt_operation() {
  json ok = with_submission_header(json_response(
      "The outcome of a completed submission, or (Accept: text/event-stream) its events.",
      object({{"result", {{"description", "The final answer; null when none."}}}}, {"result"})));
  ok["content"]["text/event-stream"] = sse_content(
      "The submission's events (data: Event with instanceId, eventIndex from 0); the "
      "`operation` event carries the result (result, isError), then `idle` closes the stream. "
      "A failure after the stream started is one `error` frame {type, instanceId, error}.");
  json responses = body_errors();
  responses["200"] = std::move(ok);
  responses["409"] = with_submission_header(error_response(
      "idempotency_conflict, or submission_aborted (meta.submissionId, meta.reason)."));
  responses["429"] = overloaded();
  responses["500"] = with_submission_header(
      error_response("submission_failed (meta.submissionId, meta.reason), or internal_error."));
  responses["502"] = with_submission_header(
      error_response("provider_error: the model provider failed after its retries."));
  return {
      {"description",
       "Admits the message durably, then waits for its outcome. With `Accept: "
       "text/event-stream` the answer streams instead."},
      {"parameters", {idempotency_header()}},
      {"requestBody", json_request_body(object(
                          {{"message", {{"type", "string"}, {"description", "The user message."}}},
                           {"session", session_property()}},
                          {"message"}))},
      {"responses", std::move(responses)}};
}

json agent_dispatch_operation() {
  json responses = body_errors();
  responses["202"] = with_submission_header(
      json_response("Admitted durably; the agent works on it in the background.",
                    object({{"dispatchId", typed("string")},
                            {"acceptedAt", {{"type", "string"}, {"format", "date-time"}}},
                            {"submissionId", typed("string")},
                            {"sequence", typed("integer")}},
                           {"dispatchId", "acceptedAt", "submissionId", "sequence"})));
  responses["409"] = error_response("idempotency_conflict.");
  responses["429"] = overloaded();
  return {{"description",
           "Delivers an input without waiting. A JSON string becomes the user message; any "
           "other value is delivered as its JSON text. An idempotent replay answers the same "
           "status and body as the first admission."},
          {"parameters", {idempotency_header()}},
          {"requestBody", json_request_body(object({{"input", {{"description", "Any JSON value."}}},
                                                    {"session", session_property()}},
                                                   {"input"}))},
          {"responses", std::move(responses)}};
}

json agent_abort_operation() {
  json responses = body_errors();
  responses["202"] = json_response(
      "The abort intent is recorded: queued submissions settle `aborted` now, a running one at "
      "its next turn boundary.",
      object({{"aborted", {{"type", "array"}, {"items", typed("string")}}}}, {"aborted"}));
  return {{"description",
           "Aborts the named submission, or every unsettled submission of the session (the "
           "default session when the body is empty)."},
          {"requestBody",
           json_request_body(object({{"session", session_property()},
                                     {"submissionId", {{"type", "string"}, {"minLength", 1}}}},
                                    json::array()),
                             false)},
          {"responses", std::move(responses)}};
}

json agent_submissions_operation() {
  json parameters = {
      session_query(),
      query_parameter(
          "state", "Only submissions in this state.",
          {{"type", "string"}, {"enum", {"queued", "running", "completed", "failed", "aborted"}}})};
  for (auto& parameter : paging_parameters()) parameters.push_back(parameter);
  json responses = read_errors("agent_not_found: no HTTP-exposed agent has this name.");
  responses["200"] = json_response("The session's submissions in sequence order.",
                                   page("submissions", "SubmissionRecord"));
  return {{"parameters", std::move(parameters)}, {"responses", std::move(responses)}};
}

json agent_submission_operation() {
  json responses = read_errors("agent_not_found, or submission_not_found for this instance.");
  responses["200"] = json_response("The submission record.", schema_ref("SubmissionRecord"));
  return {{"description", "Lets a client that lost its connection learn the outcome."},
          {"responses", std::move(responses)}};
}

json agent_history_operation() {
  json parameters = {session_query()};
  for (auto& parameter : paging_parameters()) parameters.push_back(parameter);
  json responses = read_errors("agent_not_found: no HTTP-exposed agent has this name.");
  responses["200"] =
      json_response("The session's history in order.", page("entries", "HistoryEntry"));
  return {{"parameters", std::move(parameters)}, {"responses", std::move(responses)}};
}

json agent_delete_operation() {
  json responses = read_errors("agent_not_found: no HTTP-exposed agent has this name.");
  responses["202"] =
      json_response("The session's unsettled work was aborted and its records deleted.",
                    object({{"deleted", {{"type", "boolean"}, {"const", true}}}}, {"deleted"}));
  return {{"description",
           "Aborts the session's unsettled submissions, then deletes its history, submissions "
           "and idempotency keys."},
          {"parameters", {session_query()}},
          {"responses", std::move(responses)}};
}

json workflow_start_operation() {
  json run_header = {{"description", "The run this answer is about."}, {"schema", typed("string")}};
  json accepted = json_response(
      "The run was created and goes on in the background.",
      object({{"status", {{"type", "string"}, {"const", "accepted"}}}, {"runId", typed("string")}},
             {"status", "runId"}));
  accepted["headers"]["X-Flue-Run-Id"] = run_header;
  json result = json_response("?wait=result: the completed run's result.",
                              object({{"result", {{"description", "The workflow's result."}}},
                                      {"_meta", object({{"runId", typed("string")}}, {"runId"})}},
                                     {"result", "_meta"}));
  result["headers"]["X-Flue-Run-Id"] = run_header;
  result["content"]["text/event-stream"] = sse_content(
      "Accept: text/event-stream: the run's events (data: Event with runId) until run_end; a "
      "failure without run_end is an `error` frame {error}.");
  return {
      {"description", "Starts a run with the JSON body as its payload (an empty body: null)."},
      {"parameters",
       {query_parameter("wait", "`result`: wait for the run and answer its result.",
                        {{"type", "string"}, {"enum", {"result"}}})}},
      {"requestBody", json_request_body({{"description", "The payload: any JSON value."}}, false)},
      {"responses",
       {{"200", std::move(result)},
        {"202", std::move(accepted)},
        {"400", error_response("invalid_json, invalid_request (wait), or validation_failed: "
                               "the workflow refused the payload.")},
        {"404", error_response("workflow_not_found, or workflow_not_http: not exposed over "
                               "HTTP.")},
        {"413", error_response("payload_too_large: the body exceeds the server's limit.")},
        {"415", error_response("unsupported_media_type: the body must be application/json.")},
        {"503", unavailable()},
        {"default",
         with_header(error_response("?wait=result and the run errored: its own "
                                    "error, with meta.runId. Otherwise "
                                    "internal_error."),
                     "X-Flue-Run-Id", "The run, when one was created.", typed("string"))}}}};
}

json admin_sessions_operation() {
  json session =
      object({{"session", typed("string")},
              {"owner",
               {{"type", {"string", "null"}}, {"description", "The node that owns it, or null."}}},
              {"queueDepth", typed("integer")},
              {"running", typed("boolean")},
              {"lastOutcome",
               {{"type", {"string", "null"}},
                {"description",
                 "State of its last settled "
                 "submission, or null."}}}},
             {"session", "owner", "queueDepth", "running", "lastOutcome"});
  json responses = read_errors("agent_not_found: no agent has this name.");
  responses["200"] = json_response(
      "The instance's sessions.",
      object({{"sessions", {{"type", "array"}, {"items", std::move(session)}}}}, {"sessions"}));
  return {{"responses", std::move(responses)}};
}

json admin_agents_operation() {
  json agent = object(
      {{"name", typed("string")},
       {"transports",
        object({{"http", {{"type", "boolean"}, {"enum", {true}}}},
                {"websocket", {{"type", "boolean"}, {"enum", {true}}}}},
               json::array())},
       {"created", typed("boolean")},
       {"model", typed("string")},
       {"source",
        {{"type", "string"},
         {"description",
          "The file that defines it, relative to the project; \"\" when defined in code."}}}},
      {"name", "transports", "created", "model", "source"});
  return {{"responses",
           {{"200", json_response("Every registered agent, exposed or not.",
                                  object({{"items", {{"type", "array"}, {"items", agent}}}},
                                         {"items"}))}}}};
}

json admin_cluster_operation() {
  json member = object(
      {{"nodeId", typed("string")},
       {"incarnation", typed("string")},
       {"advertise", typed("string")},
       {"state", {{"type", "string"}, {"enum", {"live", "expired"}}}},
       {"leaseExpiresAt", {{"type", "string"}, {"format", "date-time"}}},
       {"registeredAt", {{"type", "string"}, {"format", "date-time"}}},
       {"sessionsOwned", typed("integer")},
       {"queueDepth", {{"type", "integer"}, {"description", "Unsettled submissions it holds."}}},
       {"self", typed("boolean")}},
      {"nodeId", "incarnation", "advertise", "state", "leaseExpiresAt", "registeredAt",
       "sessionsOwned", "queueDepth", "self"});
  json body = object({{"node", {{"type", "string"}, {"description", "The answering node."}}},
                      {"mode", {{"type", "string"}, {"enum", {"single", "cluster"}}}},
                      {"leaseMs", typed("integer")},
                      {"view",
                       {{"type", "array"},
                        {"items", typed("string")},
                        {"description", "The members this node sees live."}}},
                      {"members", {{"type", "array"}, {"items", std::move(member)}}}},
                     {"node", "mode", "leaseMs", "view", "members"});
  return {{"responses",
           {{"200", json_response("The members, read from the shared database.", std::move(body))},
            {"503", unavailable()}}}};
}

json healthz_operation() {
  return {
      {"description", "Never requires the bearer token."},
      {"security", json::array()},
      {"responses",
       {{"200", json_response("The process is alive.",
                              object({{"ok", {{"type", "boolean"}, {"const", true}}}}, {"ok"}))}}}};
}

json readyz_operation() {
  json checks = {{"type", "object"},
                 {"additionalProperties", typed("boolean")},
                 {"description", "storage, lease, joined."}};
  return {{"responses",
           {{"200", json_response("Ready to serve.",
                                  object({{"ready", {{"type", "boolean"}, {"const", true}}},
                                          {"checks", checks}},
                                         {"ready", "checks"}))},
            {"503", error_response("unavailable: not ready; meta.checks says which check "
                                   "failed.")}}}};
}

json metrics_operation() {
  return {{"responses",
           {{"200",
             {{"description", "Prometheus text exposition format 0.0.4."},
              {"content", {{"text/plain", {{"schema", typed("string")}}}}}}}}}};
}

json openapi_document_operation() {
  return {{"description",
           "Generated from the route table the server dispatches on; lists "
           "only the agents and workflows exposed on each transport."},
          {"responses",
           {{"200", json_response("This document.",
                                  {{"type", "object"}, {"description", "OpenAPI 3.1."}})}}}};
}

}  // namespace sluice::net::openapi
