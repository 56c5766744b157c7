#include "net/run_openapi.hpp"

#include "net/openapi_schemas.hpp"

namespace sluice::net::openapi {
namespace {

using nlohmann::json;

json not_found() {
  return error_response("run_not_found: no run has this id.");
}

json unavailable() {
  return error_response("unavailable: storage is unreachable.");
}

json list_of(const char* field, const char* item) {
  return {{"type", "object"},
          {"properties", {{field, {{"type", "array"}, {"items", schema_ref(item)}}}}},
          {"required", {field}}};
}

}  // namespace

json run_record_operation() {
  return {{"responses",
           {{"200", json_response("The run record.", schema_ref("RunRecord"))},
            {"404", not_found()},
            {"503", unavailable()}}}};
}

json run_events_operation() {
  return {
      {"parameters",
       {query_parameter("after", "Only events with a larger eventIndex (default: from the first).",
                        {{"type", "integer"}, {"minimum", -1}, {"default", -1}}),
        query_parameter("limit", "Events per page.",
                        {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"default", 100}}),
        query_parameter("types", "Only these event types, comma-separated.",
                        {{"type", "string"}})}},
      {"responses",
       {{"200", json_response("Persisted events in eventIndex order.", list_of("events", "Event"))},
        {"400", error_response("invalid_request: after or limit out of range.")},
        {"404", not_found()},
        {"503", unavailable()}}}};
}

json run_stream_operation() {
  return {{"description",
           "Sends the persisted events after Last-Event-ID, then each new one as it becomes "
           "durable, and closes after run_end."},
          {"parameters",
           {header_parameter("Last-Event-ID",
                             "Resume after this eventIndex (absent: from the first event).",
                             {{"type", "integer"}, {"minimum", -1}})}},
          {"responses",
           {{"200", {{"description", "The run's events."},
                     {"content",
                      {{"text/event-stream",
                        sse_content("data: Event with runId. A failure after the stream started "
                                    "is an `error` frame {error}, whose id is the last event "
                                    "sent.")}}}}},
            {"400", error_response("invalid_request: Last-Event-ID is not an event index.")},
            {"404", not_found()},
            {"503", unavailable()}}}};
}

json admin_runs_operation() {
  return {
      {"description",
       "Run summaries (the run record without payload and result), newest first. Pages are "
       "stable while new runs arrive."},
      {"parameters",
       {query_parameter("status", "Only runs in this status.",
                        {{"type", "string"}, {"enum", {"active", "completed", "errored"}}}),
        query_parameter("workflowName", "Only runs of this workflow.", {{"type", "string"}}),
        query_parameter("limit", "Runs per page.",
                        {{"type", "integer"}, {"minimum", 1}, {"maximum", 1000}, {"default", 50}}),
        query_parameter("cursor", "The nextCursor of the previous page (opaque).",
                        {{"type", "string"}})}},
      {"responses",
       {{"200", json_response(
                    "A page of runs; nextCursor only when more may follow.",
                    {{"type", "object"},
                     {"properties",
                      {{"items", {{"type", "array"},
                                 {"items", {{"type", "object"},
                                            {"description", "A RunRecord without payload and "
                                                            "result."}}}}},
                       {"nextCursor", {{"type", "string"}}}}},
                     {"required", {"items"}}})},
        {"400", error_response("invalid_request: status, limit or cursor.")},
        {"503", unavailable()}}}};
}

}  // namespace sluice::net::openapi
