#pragma once
// The checks every request passes before its route (middleware of the route
// table): the bearer token, and the defences of a server on a developer's
// machine against the web pages that developer opens.
//
// - Origin: a browser page may open a WebSocket to any address without asking
//   first, and may send "simple" POSTs anywhere. A WebSocket upgrade or any
//   request but GET and HEAD that carries an Origin is served only when that
//   origin is the server's own host, a loopback origin, or in the allowlist;
//   programs (no Origin) are not affected.
// - Host: a page whose name was re-pointed at 127.0.0.1 (DNS rebinding) is
//   same-origin with the server; when the server listens on loopback only,
//   the Host it was reached by must be a loopback name too.
#include <optional>
#include <string>
#include <vector>

#include "net/http_types.hpp"

namespace sluice::net {

struct FrontDoorPolicy {
  std::string auth_token;                    // empty: no authentication
  std::vector<std::string> allowed_origins;  // "scheme://host[:port]", or "*" for any
  bool loopback_only = false;                // the listener is bound to a loopback address
};

// The answer that refuses the request, or nullopt when it may go on.
std::optional<HttpResponse> front_door_refusal(const HttpRequest& request,
                                               const FrontDoorPolicy& policy);

// Whether a host name or address (no port) is loopback: localhost, *.localhost,
// 127.0.0.0/8, ::1.
bool is_loopback_host(std::string_view host);

}  // namespace sluice::net
