#pragma once
// The agent socket of PROTOCOL.md (GET /agents/:name/:id + Upgrade): prompts
// are submitted in the order their frames arrive, into the same durable
// per-session queue as HTTP prompts, and each answers started, event*, then
// result or error. A closed socket drops the answers; the work goes on.
#include <memory>
#include <string>

#include "actors/session_gateway.hpp"
#include "net/http_types.hpp"

namespace sluice::net {

struct AgentSocketTarget {
  const actors::SessionGateway* gateway = nullptr;
  std::string agent;
  std::string instance;
  size_t max_frame_bytes = 1 << 20;
};

// Sends `ready` and returns the handler of the socket's frames.
std::shared_ptr<WebSocketHandler> open_agent_socket(std::shared_ptr<WebSocket> socket,
                                                    AgentSocketTarget target);

}  // namespace sluice::net
