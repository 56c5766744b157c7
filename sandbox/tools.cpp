#include "sandbox/tools.hpp"

#include <algorithm>
#include <stdexcept>

#include "sandbox/builtin_tools.hpp"
#include "sandbox/tool_arguments.hpp"

namespace sluice::sandbox {
namespace {

std::string joined_names(const std::vector<Tool>& tools) {
  std::string names;
  for (const Tool& tool : tools) names += (names.empty() ? "" : ", ") + tool.name;
  return names;
}

}  // namespace

std::vector<Tool> builtin_tools() {
  return {bash_tool(),      read_file_tool(),  write_file_tool(),
          edit_file_tool(), list_files_tool(), grep_tool()};
}

ToolSet::ToolSet(std::shared_ptr<Sandbox> sandbox,
                 std::optional<std::vector<std::string>> allowlist)
    : sandbox_(std::move(sandbox)) {
  if (!sandbox_) throw std::invalid_argument("a ToolSet needs a sandbox");
  std::vector<Tool> all = builtin_tools();
  if (!allowlist) {
    tools_ = std::move(all);
    return;
  }
  std::string unknown;
  for (const std::string& name : *allowlist) {
    bool known = std::any_of(all.begin(), all.end(), [&](const Tool& t) { return t.name == name; });
    if (!known) unknown += (unknown.empty() ? "" : ", ") + name;
  }
  if (!unknown.empty()) {
    throw std::invalid_argument("unknown tools in the allowlist: " + unknown +
                                " (built-in tools: " + joined_names(all) + ")");
  }
  for (Tool& tool : all) {
    if (std::find(allowlist->begin(), allowlist->end(), tool.name) != allowlist->end()) {
      tools_.push_back(std::move(tool));
    }
  }
}

const Tool* ToolSet::find(std::string_view name) const {
  auto it = std::find_if(tools_.begin(), tools_.end(),
                         [&](const Tool& tool) { return tool.name == name; });
  return it == tools_.end() ? nullptr : &*it;
}

ToolResult ToolSet::call(std::string_view name, const nlohmann::json& arguments) const {
  const Tool* tool = find(name);
  if (!tool) {
    return {"unknown tool \"" + std::string(name) + "\"; available tools: " + joined_names(tools_),
            true};
  }
  try {
    std::string problem = argument_problem(tool->parameters, arguments);
    if (!problem.empty()) return {"invalid arguments for " + tool->name + ": " + problem, true};
    return tool->run(*sandbox_, arguments);
  } catch (const SandboxError& error) {
    return {error.what(), true};
  } catch (const std::exception& error) {
    // A tool bug or an exhausted host (bad_alloc) must not take down the
    // turn that called it; the model sees what happened.
    return {tool->name + " failed: " + error.what(), true};
  }
}

}  // namespace sluice::sandbox
