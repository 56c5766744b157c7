#include "core/public_error.hpp"

#include <string_view>
#include <unordered_map>

namespace sluice {

int status_for_error_type(const std::string& type) {
  static const std::unordered_map<std::string_view, int> kStatus = {
      {"method_not_allowed", 405},
      {"unsupported_media_type", 415},
      {"invalid_json", 400},
      {"invalid_request", 400},
      {"validation_failed", 400},
      {"agent_not_found", 404},
      {"workflow_not_found", 404},
      {"workflow_not_http", 404},
      {"route_not_found", 404},
      {"run_not_found", 404},
      {"submission_not_found", 404},
      {"payload_too_large", 413},
      {"idempotency_conflict", 409},
      {"submission_aborted", 409},
      {"overloaded", 429},
      {"submission_failed", 500},
      {"provider_error", 502},
      {"unauthorized", 401},
      {"forbidden", 403},
      {"unavailable", 503},
      {"internal_error", 500},
  };
  auto it = kStatus.find(type);
  return it == kStatus.end() ? 500 : it->second;
}

int PublicError::http_status() const {
  return status_for_error_type(type);
}

nlohmann::json PublicError::to_json() const {
  nlohmann::json out = {{"type", type}, {"message", message}, {"details", details}};
  if (!meta.is_null()) out["meta"] = meta;
  return out;
}

nlohmann::json PublicError::envelope() const {
  return {{"error", to_json()}};
}

PublicError PublicError::from_json(const nlohmann::json& inner) {
  PublicError error;
  error.type = inner.value("type", "internal_error");
  error.message = inner.value("message", "");
  error.details = inner.value("details", "");
  if (inner.contains("meta")) error.meta = inner["meta"];
  return error;
}

PublicError make_error(std::string type, std::string message, std::string details,
                       nlohmann::json meta) {
  return PublicError{std::move(type), std::move(message), std::move(details), std::move(meta)};
}

}  // namespace sluice
