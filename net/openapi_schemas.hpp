#pragma once
// Building blocks of the OpenAPI 3.1 document (net/openapi.hpp): the shared
// component schemas (PublicError, SubmissionRecord, HistoryEntry, RunRecord,
// Event, ...) and small helpers that route registrations use to describe their
// request and responses in Route::operation.
//
//   {"responses", {{"200", openapi::json_response("The run", openapi::schema_ref("RunRecord"))},
//                  {"404", openapi::error_response("run_not_found")}}}
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace sluice::net::openapi {

// {"$ref": "#/components/schemas/<name>"}: one of the names in component_schemas().
nlohmann::json schema_ref(std::string_view name);
// A Response Object with an application/json body.
nlohmann::json json_response(std::string description, nlohmann::json schema);
// A Response Object carrying the error envelope; the description names the
// error types that answer with this status.
nlohmann::json error_response(std::string description);
// A text/event-stream Response Object whose frames carry `frames` (a description).
nlohmann::json sse_content(std::string frames);
// A required (or optional) application/json Request Body Object.
nlohmann::json json_request_body(nlohmann::json schema, bool required = true);
// An optional query (or header) Parameter Object.
nlohmann::json query_parameter(std::string name, std::string description, nlohmann::json schema);
nlohmann::json header_parameter(std::string name, std::string description, nlohmann::json schema);
// The paging query parameters `after` and `limit` of PROTOCOL.md.
nlohmann::json paging_parameters();

// components/schemas of the document.
nlohmann::json component_schemas();

}  // namespace sluice::net::openapi
