#pragma once
// POST /workflows/:name: start a run with the JSON body as its payload, in one
// of three modes: 202 once the run exists (default), the result
// (?wait=result), or its events as SSE (Accept: text/event-stream). Every
// answer given once the run exists carries X-Flue-Run-Id.
#include "net/route_table.hpp"
#include "workflows/run_service.hpp"

namespace sluice::net {

struct WorkflowRouteServices {
  workflows::RunStarter* runs = nullptr;
};

void add_workflow_routes(RouteTable& table, WorkflowRouteServices services);

}  // namespace sluice::net
