#pragma once
// The project's workflows: workflows/NAME.toml files (declarative: an agent
// and a prompt) and workflows built in C++. Loading checks every file and
// fails with harness::ProjectError naming the file, the key and the problem.
//
//   agent = "echo"                         # an agent of the project
//   prompt = "Greet {{payload.name}}."     # see prompt_template.hpp
//   expose = ["http", "websocket"]         # optional; default: not exposed
//
// The run prompts the agent's default session (instance = the run id) and
// its result is {"text": <the final answer>}.
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "harness/project.hpp"
#include "workflows/workflow.hpp"

namespace sluice::workflows {

using WorkflowTable = std::map<std::string, std::shared_ptr<const WorkflowDefinition>>;

WorkflowTable load_workflows(const harness::Project& project);

// Adds a workflow built in C++ after checking its name; the name must not be
// taken. Throws harness::ProjectError.
void add_code_workflow(WorkflowTable& table, WorkflowDefinition workflow);

}  // namespace sluice::workflows
