#pragma once
// The built-in tools an agent's model may call, over any Sandbox: bash,
// read_file, write_file, edit_file, list_files and grep. Each has a name, a
// one-line description and a JSON schema of its arguments, as model
// providers expect them. Calls are blocking (they use the sandbox): run them
// on a sandbox worker thread.
//
//   ToolSet tools(std::make_shared<LocalSandbox>(), {{"read_file", "grep"}});
//   for (const Tool& tool : tools.tools()) { ... tool.name, tool.parameters ... }
//   ToolResult r = tools.call("grep", {{"pattern", "TODO"}});
//   // r.content is what the model sees; r.is_error marks a failed call.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/sandbox.hpp"

namespace sluice::sandbox {

struct ToolResult {
  std::string content;  // the text shown to the model
  bool is_error = false;
};

struct Tool {
  std::string name;
  std::string description;    // one line
  nlohmann::json parameters;  // {"type":"object","properties":{...},"required":[...]}
  // Runs with arguments already checked against `parameters`. May throw
  // SandboxError, which the ToolSet turns into an is_error result.
  std::function<ToolResult(Sandbox&, const nlohmann::json&)> run;
};

// Every built-in tool, in a stable order.
std::vector<Tool> builtin_tools();

class ToolSet {
 public:
  // Every built-in tool, or only those the allowlist names (in built-in
  // order). Throws std::invalid_argument naming each unknown name.
  explicit ToolSet(std::shared_ptr<Sandbox> sandbox,
                   std::optional<std::vector<std::string>> allowlist = std::nullopt);

  const std::vector<Tool>& tools() const { return tools_; }
  bool has(std::string_view name) const { return find(name) != nullptr; }

  // Runs one call. Never throws: an unknown tool, invalid arguments and
  // sandbox failures all come back as is_error results with a message that
  // says what to change.
  ToolResult call(std::string_view name, const nlohmann::json& arguments) const;

 private:
  const Tool* find(std::string_view name) const;

  std::shared_ptr<Sandbox> sandbox_;
  std::vector<Tool> tools_;
};

}  // namespace sluice::sandbox
