#pragma once
// Building answers: JSON bodies, the error envelope, SSE frames.
#include <string>

#include <nlohmann/json.hpp>

#include "core/public_error.hpp"
#include "net/http_types.hpp"

namespace sluice::net {

HttpResponse json_response(int status, const nlohmann::json& body, Headers headers = {});
// Status from the error type; 405 adds Allow, 429 adds Retry-After (from meta.retryAfter seconds, default 1).
HttpResponse error_response(const PublicError& error, Headers headers = {});
// "event: <type>\nid: <index>\ndata: <json>\n\n"
std::string sse_frame(const std::string& event_type, int64_t index, const nlohmann::json& data);

}  // namespace sluice::net
