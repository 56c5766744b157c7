#pragma once
// Runs workflows on this node: the RunStarter behind POST /workflows/:name,
// the workflow WebSocket and `sluice run`. Each run gets a run actor (its
// events, in order, durable before anyone hears of them) and a workflow thread
// for its function, which may block (prompting an agent waits for the outcome).
// Runs are never replayed: a run whose node dies is ended by another node's
// coordinator as interrupted.
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/session_gateway.hpp"
#include "core/session_key.hpp"
#include "persistence/executor.hpp"
#include "sandbox/sandbox.hpp"
#include "workflows/run_hub.hpp"
#include "workflows/run_service.hpp"
#include "workflows/workflow_file.hpp"

namespace sluice::workflows {

using SandboxFactory = std::function<std::shared_ptr<sandbox::Sandbox>(const SessionKey&)>;

// What runs may use; replaced as a whole when the project is reloaded. Runs
// already going keep the definitions they started with.
struct RunDefinitions {
  WorkflowTable workflows;
  std::set<std::string> agents;  // the agents init(agent) may name
  // Agents with a sandbox (fs and shell); an agent missing here has none.
  std::map<std::string, SandboxFactory> sandboxes;
};

struct RunEngineDeps {
  caf::actor_system* system = nullptr;
  persistence::StorageExecutor* storage = nullptr;
  const actors::SessionGateway* gateway = nullptr;
  RunHub* hub = nullptr;
  persistence::NodeIdentity node;  // new runs are owned by this incarnation
  size_t threads = 16;             // workflow functions running at once
};

class RunEngine : public RunStarter {
 public:
  RunEngine(RunEngineDeps deps, RunDefinitions definitions);
  ~RunEngine() override;  // waits for running workflow functions
  RunEngine(const RunEngine&) = delete;
  RunEngine& operator=(const RunEngine&) = delete;

  std::shared_ptr<const WorkflowDefinition> find(const std::string& name) const override;
  void start(const std::string& workflow, nlohmann::json payload,
             std::shared_ptr<RunObserver> observer) override;
  void replace(RunDefinitions definitions);
  // Every workflow now served, by name.
  std::vector<std::shared_ptr<const WorkflowDefinition>> list() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::workflows
