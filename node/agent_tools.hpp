#pragma once
// From an agent's definition to the tools its session actors use: a sandbox
// (local, remote, or none) per agent instance, and the built-in tools over it.
// Everything that can be wrong in the definition is checked here, at start-up.
#include <functional>
#include <memory>

#include "core/session_key.hpp"
#include "harness/agent_definition.hpp"
#include "harness/tool_box.hpp"
#include "sandbox/sandbox.hpp"

namespace sluice::node {

using ToolFactory = std::function<std::shared_ptr<harness::ToolBox>(const SessionKey&)>;
using SandboxFactory = std::function<std::shared_ptr<sandbox::Sandbox>(const SessionKey&)>;

// The sandbox of one agent instance (what a workflow's init(agent) gives as
// fs and shell); an empty function when the agent has none. Throws like
// make_tool_factory.
SandboxFactory make_sandbox_factory(const harness::AgentDefinition& agent);

// An empty function when the agent has no tools. Throws std::runtime_error
// naming the agent's file and key. "$VAR" values are read now, so the server
// may drop secrets from its environment afterwards.
ToolFactory make_tool_factory(const harness::AgentDefinition& agent);

// Reads now what the factories need from the environment later (which files
// an isolated command must not see), before the server wipes its environment.
void remember_server_files();

}  // namespace sluice::node
