#include "net/responses.hpp"

#include <strings.h>
#include <algorithm>
#include <cmath>

namespace sluice::net {
namespace {

// Answers may echo client input (an agent id, a header) that is not valid
// UTF-8; replacing bad bytes keeps the answer well-formed instead of throwing.
std::string dump_one_line(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool has_header(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) {
      return true;
    }
  }
  return false;
}

// A day: the meta may come from a peer node, and a double beyond int64 would
// make the conversion undefined (found by fuzz/cluster_envelope_fuzz.cpp).
constexpr double kMaxRetryAfterSeconds = 86400;

// Whole seconds, rounded up so a client never comes back too early.
std::string retry_after_seconds(const nlohmann::json& meta) {
  int64_t seconds = 1;
  if (meta.is_object() && meta.contains("retryAfter") && meta["retryAfter"].is_number()) {
    double value = meta["retryAfter"].get<double>();
    if (std::isfinite(value) && value > 0) {
      seconds = static_cast<int64_t>(std::ceil(std::min(value, kMaxRetryAfterSeconds)));
    }
  }
  return std::to_string(seconds);
}

}  // namespace

HttpResponse json_response(int status, const nlohmann::json& body, Headers headers) {
  HttpResponse response;
  response.status = status;
  response.content_type = "application/json";
  response.headers = std::move(headers);
  response.body = dump_one_line(body);
  return response;
}

HttpResponse error_response(const PublicError& error, Headers headers) {
  int status = error.http_status();
  if (status == 429 && !has_header(headers, "Retry-After")) {
    headers.emplace_back("Retry-After", retry_after_seconds(error.meta));
  }
  return json_response(status, error.envelope(), std::move(headers));
}

std::string sse_frame(const std::string& event_type, int64_t index, const nlohmann::json& data) {
  std::string frame = "event: ";
  frame += event_type;
  frame += "\nid: ";
  frame += std::to_string(index);
  frame += "\ndata: ";
  frame += dump_one_line(data);
  frame += "\n\n";
  return frame;
}

}  // namespace sluice::net
