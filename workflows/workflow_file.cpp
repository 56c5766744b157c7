#include "workflows/workflow_file.hpp"

#include <algorithm>
#include <vector>

#include "harness/agent_file.hpp"
#include "harness/toml_values.hpp"
#include "workflows/prompt_template.hpp"

namespace sluice::workflows {
namespace {

using harness::ProjectError;
using harness::TomlValueError;

std::string required_string(const toml::table& table, const char* key, const char* example) {
  const toml::node* node = table.get(key);
  if (node == nullptr) {
    throw TomlValueError(key, std::string("missing; every workflow needs one, e.g. ") + example);
  }
  const auto* text = node->as_string();
  if (text == nullptr) {
    throw TomlValueError(key, "expected a string, got " + harness::toml_type_name(*node));
  }
  return text->get();
}

WorkflowDefinition declarative_workflow(const std::string& name, const std::string& agent,
                                        const std::string& prompt) {
  WorkflowDefinition workflow;
  workflow.name = name;
  workflow.check_payload = [prompt](const nlohmann::json& payload) {
    return render_prompt(prompt, payload).problem;
  };
  workflow.run = [agent, prompt](WorkflowContext& context) -> nlohmann::json {
    RenderedPrompt rendered = render_prompt(prompt, context.payload());
    if (rendered.problem) throw WorkflowError(make_error("validation_failed", *rendered.problem));
    return {{"text", context.init(agent)->session()->prompt(rendered.text)}};
  };
  return workflow;
}

WorkflowDefinition load_workflow_file(const std::filesystem::path& file, const std::string& name,
                                      const harness::Project& project) {
  const toml::table table = harness::parse_toml_file(file);
  try {
    for (const auto& [key, value] : table) {
      if (key != "agent" && key != "prompt" && key != "expose") {
        throw TomlValueError(std::string(key.str()), "unknown key; known keys: agent, prompt, expose");
      }
    }
    const std::string agent = required_string(table, "agent", "agent = \"echo\"");
    if (project.find_agent(agent) == nullptr) {
      throw TomlValueError("agent", "no agent named \"" + agent + "\" in this project");
    }
    const std::string prompt =
        required_string(table, "prompt", "prompt = \"Summarise {{payload.text}}\"");
    if (auto problem = check_prompt_template(prompt)) throw TomlValueError("prompt", *problem);
    WorkflowDefinition workflow = declarative_workflow(name, agent, prompt);
    if (const toml::node* expose = table.get("expose")) {
      const harness::Transports transports = harness::parse_expose(*expose);
      workflow.expose_http = transports.http;
      workflow.expose_websocket = transports.websocket;
    }
    workflow.source_file = file.string();
    return workflow;
  } catch (const TomlValueError& error) {
    throw ProjectError(file.string() + ": key '" + error.key + "': " + error.problem);
  }
}

}  // namespace

WorkflowTable load_workflows(const harness::Project& project) {
  WorkflowTable table;
  const std::filesystem::path folder = project.root / "workflows";
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error)) return table;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.is_regular_file() && entry.path().extension() == ".toml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    const std::string name = file.stem().string();
    if (!harness::is_valid_agent_name(name)) {
      throw ProjectError(file.string() +
                         ": the file name is not a valid workflow name; use letters, digits, "
                         "'-' and '_', starting with a letter or digit");
    }
    table[name] = std::make_shared<const WorkflowDefinition>(load_workflow_file(file, name, project));
  }
  return table;
}

void add_code_workflow(WorkflowTable& table, WorkflowDefinition workflow) {
  if (!harness::is_valid_agent_name(workflow.name)) {
    throw ProjectError("workflow \"" + workflow.name +
                       "\": not a valid workflow name; use letters, digits, '-' and '_'");
  }
  if (!workflow.run) throw ProjectError("workflow \"" + workflow.name + "\": it has no run function");
  if (table.contains(workflow.name)) {
    throw ProjectError("workflow \"" + workflow.name + "\": the name is already taken by " +
                       table.at(workflow.name)->source_file);
  }
  const std::string name = workflow.name;
  table[name] = std::make_shared<const WorkflowDefinition>(std::move(workflow));
}

}  // namespace sluice::workflows
