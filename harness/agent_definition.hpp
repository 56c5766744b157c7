#pragma once
// What an agent is: a model, instructions and the transports it is exposed on.
// Loaded from agents/NAME.toml (see project.hpp) or built in C++.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sluice::harness {

class ToolBox;  // tool_box.hpp

// [sandbox]: where the agent's tools act. kind "none" (the default): no host
// access; "local": the host's files and shell; "remote": a sandbox server
// (docs/remote-sandbox.md). cwd may hold {id} (the agent instance) and
// {session}, so each instance or session gets a folder of its own. env values
// "$VAR" come from the server's environment; an empty value removes a default.
// isolation (local only): "auto" (bubblewrap where the machine allows it),
// "bubblewrap" (start-up fails without it) or "none" (docs/security-tools.md).
struct SandboxDefinition {
  std::string kind = "none";
  std::string cwd;
  std::string isolation = "auto";
  std::map<std::string, std::string> env;
  std::string url;    // remote only
  std::string token;  // remote only; "$VAR" reads the server's environment
};

struct AgentDefinition {
  std::string name;
  std::string model;  // "provider/model", e.g. "sluice/echo"
  std::string instructions;
  bool expose_http = false;
  bool expose_websocket = false;
  // [model_options] as given (e.g. {"delay_ms": 50}); models validate their own keys.
  nlohmann::json model_options = nlohmann::json::object();
  std::string source_file;  // where it was defined, for error messages ("" when built in code)
  // Built-in tools the model may call; unset: every tool the sandbox offers
  // (none without a sandbox).
  std::optional<std::vector<std::string>> tools;
  int max_turns = 50;  // model turns per submission, tool rounds included
  // Unset: the server's SLUICE_SUBMISSION_TIMEOUT_MS / SLUICE_MAX_ATTEMPTS.
  std::optional<int64_t> timeout_s;  // wall clock of one submission, from its first start
  std::optional<int> max_attempts;   // retry budget: attempts of a turn that keeps failing
  SandboxDefinition sandbox;
  // C++ only: the tools of one agent instance, built from its id so that they
  // can be scoped to it (its own records, folder or account). Called when a
  // session of the instance first needs its tools. When set, it provides all
  // of the agent's tools, in place of `tools` and [sandbox].
  std::function<std::shared_ptr<ToolBox>(const std::string& instance_id)> instance_tools;
};

}  // namespace sluice::harness
