#pragma once
// A node's configuration, read only from its environment (PROTOCOL.md
// "Configuration"; every variable is listed in the README).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/coordinator_actor.hpp"
#include "actors/session_context.hpp"
#include "harness/agent_definition.hpp"
#include "net/http_server.hpp"
#include "workflows/workflow.hpp"

namespace sluice::node {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Several nodes sharing one database (cluster mode, on when a secret is set).
struct ClusterConfig {
  bool enabled = false;
  std::string secret;       // SLUICE_CLUSTER_SECRET
  uint16_t port = 4100;     // SLUICE_CLUSTER_PORT: the node-to-node listener
  std::string bind_host;    // SLUICE_CLUSTER_BIND, default: the advertised host
  std::string advertise;    // SLUICE_ADVERTISE host:port, default: own IPv4 and port
  std::chrono::milliseconds heartbeat{500};          // SLUICE_CLUSTER_HEARTBEAT_MS
  std::chrono::milliseconds forward_timeout{15'000};  // SLUICE_FORWARD_TIMEOUT_MS
};

struct NodeConfig {
  std::filesystem::path project_dir = ".";
  std::string database_url;  // "" = in-memory SQLite
  std::string auth_token;    // "" = no authentication
  // SLUICE_ALLOWED_ORIGINS: web origins allowed besides the server's own host
  // and loopback ("scheme://host[:port]", comma-separated; "*" allows any).
  std::vector<std::string> allowed_origins;
  std::string node_id;
  std::string log_level = "info";
  net::ServerOptions http;
  actors::SessionLimits limits;
  actors::CoordinatorOptions coordinator;
  ClusterConfig cluster;
  size_t actor_threads = 2;
  size_t workflow_threads = 16;  // workflow functions running at once (they may block)
  size_t tool_threads = 4;       // SLUICE_TOOL_THREADS: tool calls running at once on the node
  // Agents built in C++ by an application that links Sluice, served next to
  // the project's agents/NAME.toml files (apps/example_app.cpp shows one).
  std::vector<harness::AgentDefinition> agents;
  // Workflows built in C++, served next to the project's workflows/NAME.toml.
  std::vector<workflows::WorkflowDefinition> workflows;
  // False for `sluice run`: no HTTP listener.
  bool serve_http = true;

  // Reads every variable through `lookup` (nullptr when unset). Throws
  // ConfigError naming the variable and what it accepts.
  static NodeConfig from_environment(const std::function<const char*(const char*)>& lookup);
};

}  // namespace sluice::node
