#pragma once
// Parsing and checking what clients send, with the protocol's error for each
// problem. Each function returns the error, or nullopt when the input is fine.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/public_error.hpp"
#include "net/http_types.hpp"

namespace sluice::net {

inline constexpr size_t kMaxIdBytes = 512;
inline constexpr size_t kMaxIdempotencyKeyBytes = 256;

// 415 unless the body is declared application/json (parameters allowed).
std::optional<PublicError> require_json_content(const HttpRequest& request);
// 400 invalid_json, or invalid_request when nested deeper than kMaxJsonDepth.
std::optional<PublicError> parse_json_value(const std::string& body, nlohmann::json& out);
// As parse_json_value, and invalid_request when the value is not an object.
std::optional<PublicError> parse_json_object(const std::string& body, nlohmann::json& out);
// The "session" field: optional string, not empty, not reserved ("task:...").
std::optional<PublicError> read_session(const nlohmann::json& body, std::string& session);
std::optional<PublicError> check_instance_id(const std::string& id);
// The Idempotency-Key header: absent or 1..256 bytes.
std::optional<PublicError> read_idempotency_key(const HttpRequest& request,
                                                std::optional<std::string>& key);
// A non-negative integer query parameter, or the default.
std::optional<PublicError> read_int_param(const HttpRequest& request, const char* name, int64_t min,
                                          int64_t max, int64_t& value);

}  // namespace sluice::net
