#pragma once
// GET /agents/:name/:id and GET /workflows/:name with Upgrade: websocket: the
// WebSocket transport of PROTOCOL.md, version 1, on the HTTP port. A target
// that is unknown or not exposed on WebSocket answers 404 (agent_not_found,
// workflow_not_found) before the handshake; a GET that is not a WebSocket
// handshake answers 400 invalid_request.
#include <functional>
#include <string>

#include "actors/session_gateway.hpp"
#include "net/route_table.hpp"
#include "workflows/run_service.hpp"

namespace sluice::net {

struct WebSocketRouteDeps {
  const actors::SessionGateway* gateway = nullptr;
  std::function<bool(const std::string& agent)> agent_exposed_on_websocket;
  workflows::RunStarter* runs = nullptr;  // null: every workflow answers workflow_not_found
  // A frame longer than this answers payload_too_large (the socket stays
  // open); one longer than twice this closes the socket with 1009.
  size_t max_frame_bytes = 1 << 20;
};

void add_websocket_routes(RouteTable& table, WebSocketRouteDeps deps);

}  // namespace sluice::net
