#include "node/agent_tools.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "sandbox/local_sandbox.hpp"
#include "sandbox/none_sandbox.hpp"
#include "sandbox/remote_sandbox.hpp"
#include "sandbox/tools.hpp"

namespace sluice::node {
namespace {

// The tools of one sandbox, as the session actor sees them.
class SandboxTools : public harness::ToolBox {
 public:
  explicit SandboxTools(sandbox::ToolSet tools) : tools_(std::move(tools)) {
    for (const auto& tool : tools_.tools()) {
      specs_.push_back({tool.name, tool.description, tool.parameters});
    }
  }
  const std::vector<harness::ToolSpec>& specs() const override { return specs_; }
  harness::ToolOutcome call(const std::string& name, const std::string& args_json) override {
    const nlohmann::json args = nlohmann::json::parse(args_json, nullptr, false);
    if (args.is_discarded()) {
      return {"The arguments of " + name + " are not valid JSON: " + args_json, true};
    }
    const sandbox::ToolResult result = tools_.call(name, args);
    return {result.content, result.is_error};
  }

 private:
  sandbox::ToolSet tools_;
  std::vector<harness::ToolSpec> specs_;
};

// Folder names from instance ids and session names, which clients choose.
std::string safe_segment(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    out += plain ? c : '_';
  }
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

std::string expand(std::string pattern, const SessionKey& key) {
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"{id}", safe_segment(key.instance)},
                                 {"{session}", safe_segment(key.session)}}) {
    for (size_t at = pattern.find(from); at != std::string::npos; at = pattern.find(from)) {
      pattern.replace(at, from.size(), to);
    }
  }
  return pattern;
}

std::string resolve(const std::string& value) {
  if (value.size() < 2 || value[0] != '$') return value;
  const char* found = std::getenv(value.c_str() + 1);
  return found ? found : "";
}

}  // namespace

SandboxFactory make_sandbox_factory(const harness::AgentDefinition& agent) {
  const harness::SandboxDefinition& definition = agent.sandbox;
  const auto fail = [&](const std::string& key, const std::string& problem) {
    return std::runtime_error(agent.source_file + ": " + key + ": " + problem);
  };
  if (agent.instance_tools || definition.kind == "none") return {};
  if (definition.kind == "remote") {
    sandbox::RemoteSandboxOptions options;
    options.base_url = definition.url;
    options.bearer_token = resolve(definition.token);
    try {
      std::shared_ptr<sandbox::Sandbox> remote = std::make_shared<sandbox::RemoteSandbox>(options);
      return [remote](const SessionKey&) { return remote; };
    } catch (const std::exception& error) {
      throw fail("sandbox.url", error.what());
    }
  }
  sandbox::EnvMap env;
  for (const auto& [name, value] : definition.env) env[name] = resolve(value);
  const std::string cwd = definition.cwd;
  if (cwd.find('{') == std::string::npos) {
    try {
      sandbox::LocalSandbox probe({cwd, env});
    } catch (const std::exception& error) {
      throw fail("sandbox", error.what());
    }
  }
  return [cwd, env](const SessionKey& key) -> std::shared_ptr<sandbox::Sandbox> {
    sandbox::LocalSandboxOptions options;
    options.cwd = expand(cwd, key);
    options.env = env;
    if (!options.cwd.empty()) std::filesystem::create_directories(options.cwd);
    return std::make_shared<sandbox::LocalSandbox>(options);
  };
}

ToolFactory make_tool_factory(const harness::AgentDefinition& agent) {
  if (agent.instance_tools) {
    return [make = agent.instance_tools](const SessionKey& key) { return make(key.instance); };
  }
  if (agent.sandbox.kind == "none") {
    if (agent.tools && !agent.tools->empty()) {
      throw std::runtime_error(agent.source_file +
                               ": tools: this agent has no sandbox; add [sandbox] with kind = "
                               "\"local\" or \"remote\", or remove tools");
    }
    return {};
  }
  try {
    sandbox::ToolSet(std::make_shared<sandbox::NoneSandbox>(), agent.tools);
  } catch (const std::invalid_argument& error) {
    throw std::runtime_error(agent.source_file + ": tools: " + error.what());
  }
  const SandboxFactory sandbox_for = make_sandbox_factory(agent);
  if (agent.sandbox.kind == "remote") {
    // One remote sandbox serves every instance: its tools can be shared too.
    auto box = std::make_shared<SandboxTools>(sandbox::ToolSet(sandbox_for({}), agent.tools));
    return [box](const SessionKey&) { return box; };
  }
  return [sandbox_for, tools = agent.tools](const SessionKey& key) -> std::shared_ptr<harness::ToolBox> {
    return std::make_shared<SandboxTools>(sandbox::ToolSet(sandbox_for(key), tools));
  };
}

}  // namespace sluice::node
