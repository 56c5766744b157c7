// Fuzz target: the definition files of a project, agents/NAME.toml and
// workflows/NAME.toml. Every input is tried as both.
//
// Mirrors:
//   harness/project.cpp      load_project on a project folder whose
//                            agents/fuzz.toml holds the input (-> load_agent_file:
//                            toml::parse, every key's rule, model_options to JSON,
//                            validate_model of the model catalog);
//   workflows/workflow_file.cpp load_workflows on a project folder whose
//                            workflows/fuzz.toml holds the input (keys, the
//                            agent among the project's, check_prompt_template,
//                            expose), then each loaded workflow's check_payload
//                            (render_prompt) on a few payloads, as
//                            RunEngine::start does for each run.
// Both loaders take a folder, so the input is written to a scratch folder of
// this process (/tmp/sluice-fuzz-definition_toml-PID, removed at exit).
//
// The loaders' contract is "throws harness::ProjectError naming the file, the
// key and the problem"; that is all that is caught. Their callers (sluice
// serve/dev/run, the dev reloader) catch std::exception as a last resort,
// which would print a message without the file and key: any other exception
// type escaping is a finding.
//
// toml++'s parser is compiled into sluice_harness (harness/toml.hpp), the
// same code the server runs, so libFuzzer sees its coverage too.
// Not covered: node/agent_tools.cpp (tool names and sandboxes are checked
// again when the node builds its agent table) and the providers' model
// construction.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_support.hpp"
#include "harness/project.hpp"
#include "harness/toml.hpp"
#include "workflows/workflow_file.hpp"

namespace {

using namespace sluice;
using nlohmann::json;

harness::AgentDefinition known_agent(const std::string& name, const std::string& model) {
  harness::AgentDefinition agent;
  agent.name = name;
  agent.model = model;
  agent.source_file = "/fuzz-project/agents/" + name + ".toml";
  return agent;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path& dir = fuzz::scratch_dir("definition_toml");
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::write_file(dir / "agents" / "fuzz.toml", text);
  fuzz::write_file(dir / "workflows" / "fuzz.toml", text);

  // As an agent file.
  harness::Project project;
  try {
    project = harness::load_project(dir);
    const harness::AgentDefinition* agent = project.find_agent("fuzz");
    if (agent == nullptr) fuzz::finding("load_project lost agents/fuzz.toml", text);
    if (agent->model.empty()) fuzz::finding("an agent loaded without a model", text);
    if (!agent->model_options.is_object()) fuzz::finding("model_options is not an object", text);
    (void)agent->model_options.dump();  // strict: TOML strings are UTF-8
  } catch (const harness::ProjectError& error) {
    if (std::string_view(error.what()).find("fuzz.toml") == std::string_view::npos) {
      fuzz::finding(std::string("a ProjectError does not name the file: ") + error.what(), text);
    }
    project = harness::Project{};
    project.root = dir;
  }
  // The agents a workflow may name, besides the input itself.
  project.agents.emplace("echo", known_agent("echo", "sluice/echo"));
  project.agents.emplace("scripted", known_agent("scripted", "sluice/scripted"));

  // As a workflow file.
  try {
    const workflows::WorkflowTable table = workflows::load_workflows(project);
    auto found = table.find("fuzz");
    if (found == table.end()) fuzz::finding("load_workflows lost workflows/fuzz.toml", text);
    const workflows::WorkflowDefinition& workflow = *found->second;
    if (!workflow.run || !workflow.check_payload) fuzz::finding("a workflow without functions");
    for (const json& payload :
         {json{{"name", "Ada"}}, json::object(), json(nullptr), json("text"),
          json{{"a", {{"b", {1, 2}}}}, {"name", {{"first", "Ada"}}}, {"text", "x"}}}) {
      (void)workflow.check_payload(payload);
    }
  } catch (const harness::ProjectError& error) {
    if (std::string_view(error.what()).find("fuzz.toml") == std::string_view::npos) {
      fuzz::finding(std::string("a ProjectError does not name the file: ") + error.what(), text);
    }
  }
  return 0;
}
