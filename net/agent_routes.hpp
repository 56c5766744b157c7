#pragma once
// The agent routes of PROTOCOL.md: prompt (sync and SSE), dispatch, abort,
// submissions, history, delete. Writes go to the owning session actor through the
// gateway; reads go straight to storage (any node can answer them).
#include <string>

#include "actors/session_gateway.hpp"
#include "harness/project_view.hpp"
#include "net/route_table.hpp"
#include "persistence/executor.hpp"

namespace sluice::net {

struct AgentRouteServices {
  const actors::SessionGateway* gateway = nullptr;
  persistence::StorageExecutor* storage = nullptr;
  const harness::ProjectView* project = nullptr;  // its agents, by name
};

void add_agent_routes(RouteTable& table, AgentRouteServices services);

}  // namespace sluice::net
