#include "net/front_door.hpp"

#include <openssl/crypto.h>

#include <algorithm>

#include "core/text.hpp"
#include "net/responses.hpp"

namespace sluice::net {
namespace {

// Every value of a header field, in order.
std::vector<std::string> header_values(const HttpRequest& request, std::string_view name) {
  std::vector<std::string> values;
  for (const auto& [key, value] : request.headers) {
    if (iequals(key, name)) values.push_back(value);
  }
  return values;
}

bool bearer_matches(const std::string& header, const std::string& token) {
  static constexpr std::string_view kPrefix = "Bearer ";
  if (header.size() != kPrefix.size() + token.size() ||
      header.compare(0, kPrefix.size(), kPrefix)) {
    return false;
  }
  return CRYPTO_memcmp(header.data() + kPrefix.size(), token.data(), token.size()) == 0;
}

// "host", "host:port", "[v6]:port" -> the host without brackets and port.
std::string_view host_of_authority(std::string_view authority) {
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(1, close - 1);
  }
  return authority.substr(0, authority.find(':'));
}

// "scheme://authority[/...]" -> authority; "" when the origin has no host.
std::string_view authority_of_origin(std::string_view origin) {
  const size_t scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view rest = origin.substr(scheme_end + 3);
  return rest.substr(0, rest.find('/'));
}

bool is_websocket_upgrade(const HttpRequest& request) {
  return iequals(request.header("Upgrade"), "websocket");
}

bool origin_allowed(std::string_view origin, const HttpRequest& request,
                    const FrontDoorPolicy& policy) {
  for (const auto& allowed : policy.allowed_origins) {
    if (allowed == "*" || iequals(allowed, origin)) return true;
  }
  const std::string_view authority = authority_of_origin(origin);
  if (authority.empty()) return false;  // "null" and other opaque origins
  if (is_loopback_host(host_of_authority(authority))) return true;
  return iequals(authority, request.header("Host"));
}

HttpResponse forbidden(const std::string& message, const std::string& details) {
  return error_response(make_error("forbidden", message, details));
}

}  // namespace

bool is_loopback_host(std::string_view host) {
  if (iequals(host, "localhost") || host == "::1") return true;
  if (host.size() > 10 && iequals(host.substr(host.size() - 10), ".localhost")) return true;
  if (host.rfind("127.", 0) != 0) return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') ++dots;
    else if (c < '0' || c > '9') return false;
  }
  return dots == 3;
}

std::optional<HttpResponse> front_door_refusal(const HttpRequest& request,
                                               const FrontDoorPolicy& policy) {
  if (!policy.auth_token.empty() && request.path != "/healthz") {
    const auto values = header_values(request, "Authorization");
    if (values.size() > 1) {
      return error_response(make_error("invalid_request", "Authorization is sent more than once.",
                                       "Send one Authorization field."));
    }
    if (values.empty() || !bearer_matches(values.front(), policy.auth_token)) {
      return error_response(make_error("unauthorized", "A valid bearer token is required.",
                                       "Send Authorization: Bearer <SLUICE_AUTH_TOKEN>."),
                            {{"WWW-Authenticate", "Bearer"}});
    }
  }
  if (policy.loopback_only &&
      !is_loopback_host(host_of_authority(request.header("Host")))) {
    return forbidden("This server listens on loopback and answers only loopback host names.",
                     "Reach it as localhost or 127.0.0.1, or set HOST to listen elsewhere.");
  }
  const auto origins = header_values(request, "Origin");
  // Reads are harmless (a page cannot see a cross-origin answer); anything
  // else, and every WebSocket, must come from an allowed origin.
  const bool reads = request.method == "GET" || request.method == "HEAD";
  if (!origins.empty() && (is_websocket_upgrade(request) || !reads)) {
    if (origins.size() > 1 || !origin_allowed(origins.front(), request, policy)) {
      return forbidden("Requests from the web origin " + origins.front() + " are not allowed.",
                       "Add the origin to SLUICE_ALLOWED_ORIGINS to allow it.");
    }
  }
  return std::nullopt;
}

}  // namespace sluice::net
