// An application that links Sluice as a library and defines an agent and a
// workflow in C++. The agent "notes" has tools that keep a notebook per agent
// instance: the factory gets the instance id, so POST /agents/notes/alice and
// /agents/notes/bob each see their own notes. The workflow "note-taker" takes
// {"items": [...]}, logs each item, asks the notes agent of its run to note
// it, and returns what the agent last answered. Run it like `sluice serve`:
// the same environment variables, and the project's agents/*.toml and
// workflows/*.toml files are served next to it.
//
//   build/sluice-example-app --project examples
//   curl -s localhost:3000/agents/notes/alice -H 'content-type: application/json'
//        -d '{"message":"remember the milk"}'     (one line)
//   curl -s 'localhost:3000/workflows/note-taker?wait=result'
//        -H 'content-type: application/json' -d '{"items":["milk","eggs"]}'
//
// The model is offline (sluice/scripted): turn one calls add_note, turn two
// answers with the tool's result. Set model and model_options to use a
// provider instead (e.g. "openai/gpt-4o-mini" with OPENAI_API_KEY).
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "harness/agent_definition.hpp"
#include "harness/function_tools.hpp"
#include "node/serve.hpp"
#include "workflows/workflow.hpp"

namespace {

using sluice::harness::FunctionTools;
using sluice::harness::ToolOutcome;
using json = nlohmann::json;

// Every instance's notes. Tools run on the tool runner's threads, and two
// sessions of one instance may call them at once, hence the lock.
class Notebooks {
 public:
  std::string add(const std::string& instance, const std::string& note) {
    std::lock_guard lock(mutex_);
    notes_[instance].push_back(note);
    return render(notes_[instance]);
  }
  std::string list(const std::string& instance) {
    std::lock_guard lock(mutex_);
    return render(notes_[instance]);
  }

 private:
  static std::string render(const std::vector<std::string>& notes) {
    std::string out;
    for (const auto& note : notes) out += (out.empty() ? "" : "; ") + note;
    return out.empty() ? "(no notes)" : out;
  }
  std::mutex mutex_;
  std::map<std::string, std::vector<std::string>> notes_;
};

sluice::harness::AgentDefinition notes_agent(std::shared_ptr<Notebooks> notebooks) {
  sluice::harness::AgentDefinition agent;
  agent.name = "notes";
  agent.model = "sluice/scripted";
  agent.instructions = "Keep the user's notes with add_note and list_notes.";
  agent.expose_http = true;
  agent.model_options = {
      {"loop", true},
      {"turns",
       json::array({{{"tool_calls", json::array({{{"name", "add_note"},
                                                   {"args", {{"text", "milk"}}}}})}},
                    {{"text", "Your notes: {last_tool_result}"}}})}};
  agent.instance_tools = [notebooks](const std::string& instance_id) {
    auto tools = std::make_shared<FunctionTools>();
    tools->add({"add_note",
                "Add a note to this user's notebook; answers with every note.",
                {{"type", "object"},
                 {"properties", {{"text", {{"type", "string"}}}}},
                 {"required", {"text"}}}},
               [notebooks, instance_id](const json& args) -> ToolOutcome {
                 return {notebooks->add(instance_id, args.at("text").get<std::string>())};
               });
    tools->add({"list_notes", "List this user's notes.", {{"type", "object"}}},
               [notebooks, instance_id](const json&) -> ToolOutcome {
                 return {notebooks->list(instance_id)};
               });
    return tools;
  };
  return agent;
}

sluice::workflows::WorkflowDefinition note_taker_workflow() {
  sluice::workflows::WorkflowDefinition workflow;
  workflow.name = "note-taker";
  workflow.expose_http = true;
  workflow.expose_websocket = true;
  workflow.check_payload = [](const json& payload) -> std::optional<std::string> {
    if (!payload.is_object() || !payload.contains("items") || !payload["items"].is_array()) {
      return "the payload needs \"items\": an array of notes";
    }
    return std::nullopt;
  };
  workflow.run = [](sluice::workflows::WorkflowContext& context) -> json {
    auto notes = context.init("notes")->session();
    std::string answer;
    for (const auto& item : context.payload()["items"]) {
      context.log().info("noting an item", {{"item", item}});
      answer = notes->prompt("remember " + item.dump());
    }
    return {{"items", context.payload()["items"].size()}, {"lastAnswer", answer}};
  };
  return workflow;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"An application embedding Sluice with an agent defined in C++ (notes).",
               "sluice-example-app"};
  std::string project_dir = ".";
  app.add_option("--project", project_dir,
                 "Project directory whose agents/NAME.toml are served too (default: .)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_default_logger(spdlog::stderr_color_mt("sluice"));
  try {
    auto config = sluice::node::NodeConfig::from_environment(
        [](const char* name) { return std::getenv(name); });
    config.project_dir = project_dir;
    config.agents.push_back(notes_agent(std::make_shared<Notebooks>()));
    config.workflows.push_back(note_taker_workflow());
    return sluice::node::serve_until_stopped(std::move(config));
  } catch (const std::exception& error) {
    std::cerr << "sluice-example-app: " << error.what() << "\n";
    return 1;
  }
}
