#include "node/agent_tools.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "core/digest.hpp"
#include "core/untrusted_json.hpp"
#include "persistence/open_database.hpp"
#include "sandbox/isolation.hpp"
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
    // A model's output: bounded nesting, like every JSON from outside.
    const UntrustedJson args = parse_untrusted_json(args_json);
    if (!args.ok()) {
      return {"The arguments of " + name + " are not valid JSON" +
                  (args.problem == JsonProblem::too_deep ? " (nested too deeply)" : "") + ": " +
                  args_json.substr(0, 1024),
              true};
    }
    const sandbox::ToolResult result = tools_.call(name, args.value);
    return {result.content, result.is_error};
  }

 private:
  sandbox::ToolSet tools_;
  std::vector<harness::ToolSpec> specs_;
};

// The tools of an instance whose sandbox could not be set up (its folder
// could not be created): each call says why, and the session goes on.
class BrokenTools : public harness::ToolBox {
 public:
  BrokenTools(std::vector<harness::ToolSpec> specs, std::string why)
      : specs_(std::move(specs)), why_(std::move(why)) {}
  const std::vector<harness::ToolSpec>& specs() const override { return specs_; }
  harness::ToolOutcome call(const std::string& name, const std::string&) override {
    return {"The sandbox of " + name + " cannot be set up: " + why_, true};
  }

 private:
  std::vector<harness::ToolSpec> specs_;
  std::string why_;
};

// Folder names from instance ids and session names, which clients choose
// (up to 512 bytes, any character). Injective, so two instances never share a
// folder, and short enough for any file system (NAME_MAX is 255 bytes): a
// plain name ([A-Za-z0-9._-], not "." or "..", at most 100 bytes) is kept as
// it is; anything else becomes a readable prefix, '~' (never in a plain
// name) and 128 bits of its SHA-256.
std::string safe_segment(const std::string& text) {
  constexpr size_t kPlainMax = 100, kPrefixMax = 48;
  const auto plain = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  };
  const bool is_plain = !text.empty() && text.size() <= kPlainMax && text != "." && text != ".." &&
                        std::all_of(text.begin(), text.end(), plain);
  if (is_plain) return text;
  std::string prefix;
  for (char c : text.substr(0, kPrefixMax)) prefix += plain(c) ? c : '_';
  return prefix + "~" + sha256_hex(text).substr(0, 32);
}

std::string expand(std::string pattern, const SessionKey& key) {
  for (const auto& [from, to] :
       {std::pair<std::string, std::string>{"{id}", safe_segment(key.instance)},
        {"{session}", safe_segment(key.session)}}) {
    for (size_t at = pattern.find(from); at != std::string::npos; at = pattern.find(from)) {
      pattern.replace(at, from.size(), to);
    }
  }
  return pattern;
}

// The server's private files a command must not see: the project (its .env
// above all) and the SQLite database. DATABASE_URL is read once, before the
// server wipes its environment (see remember_server_files).
const std::vector<std::filesystem::path>& database_files() {
  static const std::vector<std::filesystem::path> files = [] {
    std::vector<std::filesystem::path> found;
    const char* url = std::getenv("DATABASE_URL");
    const std::string text = url ? url : "";
    if (persistence::is_in_memory(text) || text.rfind("postgres", 0) == 0) return found;
    const std::string path = text.rfind("sqlite://", 0) == 0 ? text.substr(9) : text;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
      found.push_back(std::filesystem::absolute(path + suffix));
    }
    return found;
  }();
  return files;
}

sandbox::HiddenPaths hidden_paths(const harness::AgentDefinition& agent) {
  sandbox::HiddenPaths hidden = database_files();
  if (!agent.source_file.empty()) {
    // agents/NAME.toml lies in the project folder.
    const auto project = std::filesystem::absolute(agent.source_file).parent_path().parent_path();
    hidden.push_back(project);
    hidden.push_back(project / ".env");
  }
  return hidden;
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
  sandbox::LocalSandboxOptions base;
  for (const auto& [name, value] : definition.env) base.env[name] = resolve(value);
  try {
    base.isolation =
        sandbox::resolve_isolation(sandbox::isolation_request_from_name(definition.isolation)
                                       .value_or(sandbox::IsolationRequest::kAuto));
  } catch (const std::exception& error) {
    throw fail("sandbox.isolation", error.what());
  }
  base.hidden = hidden_paths(agent);
  const std::string cwd = definition.cwd;
  if (cwd.find('{') == std::string::npos) {
    try {
      sandbox::LocalSandboxOptions probe = base;
      probe.cwd = cwd;
      sandbox::LocalSandbox check(probe);
    } catch (const std::exception& error) {
      throw fail("sandbox", error.what());
    }
  }
  return [cwd, base](const SessionKey& key) -> std::shared_ptr<sandbox::Sandbox> {
    sandbox::LocalSandboxOptions options = base;
    options.cwd = expand(cwd, key);
    if (!options.cwd.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(options.cwd, ec);
      if (ec) {
        throw sandbox::SandboxError(
            sandbox::ErrorKind::kIo,
            "cannot create the working directory " + options.cwd.string() + ": " + ec.message());
      }
    }
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
  if (agent.sandbox.kind == "local") {
    const bool isolated = sandbox::resolve_isolation(sandbox::IsolationRequest::kAuto) ==
                              sandbox::Isolation::kBubblewrap &&
                          agent.sandbox.isolation != "none";
    spdlog::info("agent {}: local sandbox, tool commands {}", agent.name,
                 isolated ? "isolated by bubblewrap (own PID namespace and /proc, read-only "
                            "system, database and project hidden)"
                          : "NOT isolated (isolation = none): they run as the server's user and "
                            "can read its memory and files");
  }
  if (agent.sandbox.kind == "remote") {
    // One remote sandbox serves every instance: its tools can be shared too.
    auto box = std::make_shared<SandboxTools>(sandbox::ToolSet(sandbox_for({}), agent.tools));
    return [box](const SessionKey&) { return box; };
  }
  return [sandbox_for,
          tools = agent.tools](const SessionKey& key) -> std::shared_ptr<harness::ToolBox> {
    try {
      return std::make_shared<SandboxTools>(sandbox::ToolSet(sandbox_for(key), tools));
    } catch (const std::exception& error) {
      spdlog::warn("the sandbox of {}/{} cannot be set up: {}", key.agent, key.instance,
                   error.what());
      const SandboxTools specs(sandbox::ToolSet(std::make_shared<sandbox::NoneSandbox>(), tools));
      return std::make_shared<BrokenTools>(specs.specs(), error.what());
    }
  };
}

void remember_server_files() {
  database_files();
}

}  // namespace sluice::node
