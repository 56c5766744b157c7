#include "net/openapi_schemas.hpp"

namespace sluice::net::openapi {
namespace {

using nlohmann::json;

json string_schema(std::string description) {
  return {{"type", "string"}, {"description", std::move(description)}};
}

json timestamp(std::string description) {
  return {{"type", "string"}, {"format", "date-time"}, {"description", std::move(description)}};
}

json nullable_timestamp(std::string description) {
  return {{"type", {"string", "null"}},
          {"format", "date-time"},
          {"description", std::move(description)}};
}

json any_value(std::string description) {
  return {{"description", std::move(description)}};
}

json object(json properties, json required) {
  return {
      {"type", "object"}, {"properties", std::move(properties)}, {"required", std::move(required)}};
}

json public_error_body() {
  return object({{"type", string_schema("What went wrong, e.g. invalid_request, agent_not_found, "
                                        "overloaded, internal_error (PROTOCOL.md \"Errors\"); the "
                                        "HTTP status follows it.")},
                 {"message", string_schema("One human sentence.")},
                 {"details", string_schema("What to change, or \"\".")},
                 {"meta",
                  {{"type", "object"},
                   {"description", "Machine-readable context, e.g. submissionId and reason."}}}},
                {"type", "message", "details"});
}

json submission_record() {
  json schema = object(
      {{"submissionId", string_schema("sub_<ULID>")},
       {"kind", {{"type", "string"}, {"enum", {"direct", "dispatch"}}}},
       {"session", string_schema("The session inside the agent instance.")},
       {"sequence",
        {{"type", "integer"},
         {"minimum", 1},
         {"description", "Admission order within the session: 1, 2, 3, ..."}}},
       {"state",
        {{"type", "string"}, {"enum", {"queued", "running", "completed", "failed", "aborted"}}}},
       {"inputApplied",
        {{"type", "boolean"}, {"description", "Whether its input is in the session history."}}},
       {"attempts", {{"type", "integer"}, {"minimum", 0}}},
       {"acceptedAt", timestamp("When it was admitted.")},
       {"startedAt", nullable_timestamp("When it first started running.")},
       {"settledAt", nullable_timestamp("When it reached its terminal state.")},
       {"result", any_value("The final answer once completed, else null.")},
       {"error",
        {{"oneOf", {schema_ref("PublicErrorBody"), {{"type", "null"}}}},
         {"description", "Why it failed or was aborted (meta.reason), else null."}}},
       {"usage",
        {{"type", {"object", "null"}},
         {"description", "Token usage reported by the model provider, or null."}}},
       {"dispatchId", string_schema("dsp_<ULID>: dispatched submissions only.")},
       {"abortRequested",
        {{"type", "boolean"}, {"description", "Present (true) once an abort was requested."}}}},
      {"submissionId", "kind", "session", "sequence", "state", "inputApplied", "attempts",
       "acceptedAt", "startedAt", "settledAt", "result", "error", "usage"});
  schema["description"] = "One admitted input and its outcome (PROTOCOL.md \"Submissions\").";
  return schema;
}

json history_entry() {
  json schema = object(
      {{"id", {{"type", "integer"}, {"description", "Position in the session history."}}},
       {"sequence", {{"type", "integer"}, {"description", "The sequence of its submission."}}},
       {"type",
        {{"type", "string"},
         {"enum",
          {"user", "assistant", "tool_call", "tool_result", "interruption", "compaction"}}}},
       {"submissionId", string_schema("The submission it belongs to.")},
       {"timestamp", timestamp("When it was recorded.")},
       {"text", string_schema("user, assistant, interruption and compaction entries.")},
       {"compactedThrough",
        {{"type", "integer"}, {"description", "compaction: the last entry id it summarises."}}},
       {"toolName", string_schema("tool_call and tool_result entries.")},
       {"toolCallId", string_schema("tool_call and tool_result entries.")},
       {"args", any_value("tool_call: the arguments.")},
       {"result", any_value("tool_result: what the tool returned.")},
       {"isError", {{"type", "boolean"}, {"description", "tool_result: whether it failed."}}},
       {"status",
        {{"type", "string"},
         {"enum", {"partial", "interrupted"}},
         {"description", "Absent when complete."}}}},
      {"id", "sequence", "type", "submissionId", "timestamp"});
  schema["description"] = "One entry of a session's durable history.";
  return schema;
}

json run_record() {
  json schema = object(
      {{"runId", string_schema("workflow:<name>:<ULID>")},
       {"owner", object({{"kind", {{"type", "string"}, {"enum", {"workflow"}}}},
                         {"workflowName", {{"type", "string"}}},
                         {"instanceId", string_schema("The run's id.")}},
                        {"kind", "workflowName", "instanceId"})},
       {"status", {{"type", "string"}, {"enum", {"active", "completed", "errored"}}}},
       {"startedAt", timestamp("When the run started.")},
       {"payload", any_value("The payload the run was started with.")},
       {"endedAt", timestamp("When it ended; absent while active.")},
       {"isError", {{"type", "boolean"}, {"description", "Absent while active."}}},
       {"durationMs", {{"type", "integer"}, {"description", "Absent while active."}}},
       {"result", any_value("A completed run's result (null when none).")},
       {"error", schema_ref("PublicErrorBody")}},
      {"runId", "owner", "status", "startedAt", "payload"});
  schema["description"] = "A workflow run.";
  return schema;
}

json event() {
  json schema = object(
      {{"type", string_schema("run_start, run_resume, run_end, agent_start, agent_end, idle, "
                              "operation_start, operation, turn_start, turn_request, turn_end, "
                              "turn, message_start, message_update, message_end, text_delta, "
                              "thinking_start, thinking_delta, thinking_end, tool_start, "
                              "tool_call, compaction_start, compaction, log.")},
       {"eventIndex", {{"type", "integer"}, {"minimum", 0}}},
       {"timestamp", timestamp("When it happened.")},
       {"instanceId", string_schema("Agent events.")},
       {"runId", string_schema("Workflow events.")},
       {"dispatchId", {{"type", "string"}}},
       {"session", {{"type", "string"}}},
       {"operationId", {{"type", "string"}}},
       {"turnId", {{"type", "string"}}}},
      {"type", "eventIndex", "timestamp"});
  schema["description"] = "An event; each type adds its own fields (PROTOCOL.md \"Events\").";
  return schema;
}

}  // namespace

json schema_ref(std::string_view name) {
  return {{"$ref", "#/components/schemas/" + std::string(name)}};
}

json json_response(std::string description, json schema) {
  return {{"description", std::move(description)},
          {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
}

json error_response(std::string description) {
  return json_response(std::move(description), schema_ref("PublicError"));
}

json sse_content(std::string frames) {
  return {{"schema",
           {{"type", "string"},
            {"description",
             "Server-sent events: `event: <type>`, `id: <eventIndex>`, "
             "`data: <JSON>` per frame, `: heartbeat` every 15 s. " +
                 std::move(frames)}}}};
}

json json_request_body(json schema, bool required) {
  return {{"required", required},
          {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
}

json query_parameter(std::string name, std::string description, json schema) {
  return {{"name", std::move(name)},
          {"in", "query"},
          {"required", false},
          {"description", std::move(description)},
          {"schema", std::move(schema)}};
}

json header_parameter(std::string name, std::string description, json schema) {
  json parameter = query_parameter(std::move(name), std::move(description), std::move(schema));
  parameter["in"] = "header";
  return parameter;
}

json paging_parameters() {
  return {
      query_parameter("after", "Only items after this cursor (the `next` of a previous page).",
                      {{"type", "integer"}, {"minimum", 0}, {"default", 0}}),
      query_parameter("limit", "Page size.",
                      {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"default", 100}})};
}

json component_schemas() {
  json error = object({{"error", schema_ref("PublicErrorBody")}}, {"error"});
  error["description"] = "Every error answer (PROTOCOL.md \"Errors\").";
  return {{"PublicError", std::move(error)},
          {"PublicErrorBody", public_error_body()},
          {"SubmissionRecord", submission_record()},
          {"HistoryEntry", history_entry()},
          {"RunRecord", run_record()},
          {"Event", event()}};
}

}  // namespace sluice::net::openapi
