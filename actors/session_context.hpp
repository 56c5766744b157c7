#pragma once
// What every session actor of a node shares: storage, the agents, the limits.
// Built once at start-up; only the agent table is replaced afterwards, as a
// whole, when `sluice dev` reloads the project.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/metrics.hpp"
#include "core/replaceable.hpp"
#include "harness/agent_definition.hpp"
#include "harness/model.hpp"
#include "harness/tool_box.hpp"
#include "harness/tool_runner.hpp"
#include "persistence/executor.hpp"
#include "persistence/records.hpp"

namespace sluice::actors {

struct SessionLimits {
  size_t max_queue_depth = 10'000;          // per session, queued + running
  int64_t node_admission_limit = 100'000;   // unsettled submissions on this node
  int max_attempts = 3;                     // turn attempts per submission
  int64_t submission_timeout_ms = 600'000;  // wall clock from first start
  int64_t idle_passivate_ms = 30'000;       // an idle session actor leaves memory
  int64_t shutdown_grace_ms = 5'000;        // wait this long for a turn boundary
  int64_t retry_base_delay_ms = 500;        // transient provider errors back off from here
  int64_t claim_patience_ms = 10'000;       // keep asking while another live node holds a session
  int64_t forward_timeout_ms = 15'000;      // a command for another node finds it within this
};

struct AgentRuntime {
  harness::AgentDefinition definition;
  std::shared_ptr<harness::Model> model;
  // The tools of one agent instance (a sandbox may be scoped to it); null
  // function or null result: the agent has no tools.
  std::function<std::shared_ptr<harness::ToolBox>(const SessionKey&)> make_tools;
  SessionLimits limits;  // the node's, with this agent's timeout_s and max_attempts
};

// The node's limits with what an agent's definition overrides.
inline SessionLimits limits_for(const harness::AgentDefinition& agent, SessionLimits limits) {
  if (agent.timeout_s) limits.submission_timeout_ms = *agent.timeout_s * 1000;
  if (agent.max_attempts) limits.max_attempts = *agent.max_attempts;
  return limits;
}

using AgentTable = std::map<std::string, std::shared_ptr<const AgentRuntime>>;

// The agents of the node. A session actor takes its agent when a submission
// starts and keeps it for that submission, so a reload applies from the next.
using AgentDirectory = Replaceable<AgentTable>;

struct SessionContext {
  persistence::StorageExecutor* storage = nullptr;
  persistence::NodeIdentity node;
  std::shared_ptr<AgentDirectory> agents = std::make_shared<AgentDirectory>();
  SessionLimits limits;
  Metrics* metrics = nullptr;
  harness::ToolRunner* tool_runner = nullptr;

  std::shared_ptr<const AgentRuntime> agent(const std::string& name) const {
    const auto table = agents->current();
    auto it = table->find(name);
    return it == table->end() ? nullptr : it->second;
  }
};

using SessionContextPtr = std::shared_ptr<const SessionContext>;

}  // namespace sluice::actors
