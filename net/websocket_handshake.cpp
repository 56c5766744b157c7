#include "net/websocket_handshake.hpp"

#include <string_view>

#include "core/text.hpp"

namespace sluice::net {
namespace {

// Whether a comma-separated header value lists the token (case-insensitive).
bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::optional<PublicError> websocket_handshake_error(const HttpRequest& request, bool http11) {
  constexpr const char* kHow =
      "Open a WebSocket: GET over HTTP/1.1 with Connection: Upgrade, Upgrade: websocket, "
      "Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key.";
  auto refuse = [&](const std::string& what) {
    return make_error("invalid_request", "This route speaks WebSocket only: " + what + ".", kHow);
  };
  if (request.method != "GET") return refuse("the method must be GET");
  if (!http11) return refuse("the request must be HTTP/1.1");
  if (!has_token(request.header("Upgrade"), "websocket")) {
    return refuse("the request lacks Upgrade: websocket");
  }
  if (!has_token(request.header("Connection"), "upgrade")) {
    return refuse("the request lacks Connection: Upgrade");
  }
  if (request.header("Host").empty()) return refuse("the request lacks a Host header");
  // 16 random bytes in base64.
  if (request.header("Sec-WebSocket-Key").size() != 24) {
    return refuse("Sec-WebSocket-Key must be 24 characters of base64");
  }
  if (request.header("Sec-WebSocket-Version") != "13") {
    return refuse("Sec-WebSocket-Version must be 13");
  }
  return std::nullopt;
}

}  // namespace sluice::net
