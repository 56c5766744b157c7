#include "net/request_validation.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "core/untrusted_json.hpp"
#include "core/utf8.hpp"

namespace sluice::net {

std::optional<PublicError> require_json_content(const HttpRequest& request) {
  std::string type = request.header("Content-Type");
  type = type.substr(0, type.find(';'));
  type.erase(
      std::remove_if(type.begin(), type.end(), [](unsigned char c) { return std::isspace(c); }),
      type.end());
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (type == "application/json") return std::nullopt;
  return make_error("unsupported_media_type", "The request body must be JSON.",
                    "Send Content-Type: application/json.");
}

std::optional<PublicError> parse_json_value(const std::string& body, nlohmann::json& out) {
  UntrustedJson parsed = parse_untrusted_json(body);
  if (parsed.problem == JsonProblem::too_deep) {
    return make_error("invalid_request",
                      "The JSON is nested more than " + std::to_string(kMaxJsonDepth) +
                          " levels deep.",
                      "Send a flatter value.");
  }
  if (!parsed.ok()) {
    return make_error("invalid_json", "The request body is not valid JSON.");
  }
  out = std::move(parsed.value);
  return std::nullopt;
}

std::optional<PublicError> parse_json_object(const std::string& body, nlohmann::json& out) {
  if (auto error = parse_json_value(body, out)) return error;
  if (!out.is_object()) {
    return make_error("invalid_request", "The request body must be a JSON object.");
  }
  return std::nullopt;
}

std::optional<PublicError> read_session(const nlohmann::json& body, std::string& session) {
  session = "default";
  auto it = body.find("session");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
    return make_error("invalid_request", "\"session\" must be a non-empty string.");
  }
  const auto& value = it->get_ref<const std::string&>();
  if (value.size() > kMaxIdBytes) {
    return make_error("invalid_request", "\"session\" is longer than 512 bytes.");
  }
  if (!is_identifier_text(value)) {
    return make_error("invalid_request", "\"session\" must not contain NUL.");
  }
  if (value.rfind("task:", 0) == 0) {
    return make_error("invalid_request", "Session names starting with \"task:\" are reserved.");
  }
  session = value;
  return std::nullopt;
}

std::optional<PublicError> check_instance_id(const std::string& id) {
  if (id.empty() || id.size() > kMaxIdBytes) {
    return make_error("invalid_request", "The instance id must be 1 to 512 bytes long.");
  }
  if (!is_identifier_text(id)) {
    return make_error("invalid_request", "The instance id must be UTF-8 without NUL.");
  }
  return std::nullopt;
}

std::optional<PublicError> read_idempotency_key(const HttpRequest& request,
                                                std::optional<std::string>& key) {
  key.reset();
  for (const auto& [name, value] : request.headers) {
    if (name.size() != 15) continue;
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower != "idempotency-key") continue;
    if (key) {
      return make_error("invalid_request", "Idempotency-Key is sent more than once.",
                        "Send one Idempotency-Key field.");
    }
    if (value.empty() || value.size() > kMaxIdempotencyKeyBytes) {
      return make_error("invalid_request", "Idempotency-Key must be 1 to 256 bytes long.");
    }
    if (!is_identifier_text(value)) {
      return make_error("invalid_request", "Idempotency-Key must be UTF-8 without NUL.");
    }
    key = value;
  }
  return std::nullopt;
}

std::optional<PublicError> read_int_param(const HttpRequest& request, const char* name, int64_t min,
                                          int64_t max, int64_t& value) {
  auto text = request.query_param(name);
  if (!text) return std::nullopt;
  int64_t parsed = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), parsed);
  if (ec != std::errc() || end != text->data() + text->size() || parsed < min || parsed > max) {
    return make_error("invalid_request", std::string("Query parameter '") + name +
                                             "' must be an integer from " + std::to_string(min) +
                                             " to " + std::to_string(max) + ".");
  }
  value = parsed;
  return std::nullopt;
}

}  // namespace sluice::net
