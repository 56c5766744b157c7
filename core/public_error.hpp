#pragma once
// The public error of PROTOCOL.md: {"error":{"type","message","details","meta"?}}.
// Every failure a client sees is one of these; the HTTP status follows the type.
#include <string>

#include <nlohmann/json.hpp>

namespace sluice {

struct PublicError {
  std::string type;     // e.g. "invalid_request"
  std::string message;  // one human sentence
  std::string details;  // what to change, or ""
  nlohmann::json meta;  // object or null

  int http_status() const;
  nlohmann::json to_json() const;   // the inner {"type",...} object
  nlohmann::json envelope() const;  // {"error": to_json()}
  static PublicError from_json(const nlohmann::json& inner);
};

PublicError make_error(std::string type, std::string message, std::string details = {},
                       nlohmann::json meta = nullptr);
int status_for_error_type(const std::string& type);

}  // namespace sluice
