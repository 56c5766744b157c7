#pragma once
// The agent routes of PROTOCOL.md: prompt (sync and SSE), dispatch, abort,
// submissions, history. Writes go to the owning session actor through the
// gateway; reads go straight to storage (any node can answer them).
#include <map>
#include <string>

#include "actors/session_gateway.hpp"
#include "harness/agent_definition.hpp"
#include "net/route_table.hpp"
#include "persistence/executor.hpp"

namespace sluice::net {

struct AgentRouteServices {
  const actors::SessionGateway* gateway = nullptr;
  persistence::StorageExecutor* storage = nullptr;
  const std::map<std::string, harness::AgentDefinition>* agents = nullptr;
};

void add_agent_routes(RouteTable& table, AgentRouteServices services);

}  // namespace sluice::net
