#pragma once
// Whether a request may become a WebSocket (RFC 6455, section 4.2.1), checked
// before the hand-over so that a refusal answers in the error envelope.
#include <optional>

#include "core/public_error.hpp"
#include "net/http_types.hpp"

namespace sluice::net {

// 400 invalid_request naming what is missing, or nullopt.
std::optional<PublicError> websocket_handshake_error(const HttpRequest& request, bool http11);

}  // namespace sluice::net
