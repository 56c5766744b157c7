#pragma once
// The WorkflowContext a run's function receives: its payload and id, a logger
// whose lines become `log` events, and init(agent) for the agent's sandbox and
// sessions. Used by one workflow thread at a time.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/session_gateway.hpp"
#include "actors/workflow_run_actor.hpp"
#include "workflows/run_engine.hpp"

namespace sluice::workflows {

std::unique_ptr<WorkflowContext> make_run_context(nlohmann::json payload, std::string run_id,
                                                  actors::WorkflowRunHandle run,
                                                  std::shared_ptr<const RunDefinitions> definitions,
                                                  const actors::SessionGateway* gateway);

}  // namespace sluice::workflows
