#pragma once
// A RunStarter for the HTTP and WebSocket targets: the project's declarative
// workflows loaded from TOML by the production loader, and a start() that does
// what workflows/run_engine.cpp RunEngine::start does before a run exists
// (find, check_payload, dump the payload into the run record), then refuses
// with 503: there is no run engine (threads, storage) while fuzzing.
#include <memory>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/public_error.hpp"
#include "fuzz_support.hpp"
#include "harness/project.hpp"
#include "workflows/run_service.hpp"
#include "workflows/workflow_file.hpp"

namespace sluice::fuzz {

class FuzzRuns final : public workflows::RunStarter {
 public:
  explicit FuzzRuns(workflows::WorkflowTable table) : table_(std::move(table)) {}

  std::shared_ptr<const workflows::WorkflowDefinition> find(
      const std::string& name) const override {
    auto it = table_.find(name);
    return it == table_.end() ? nullptr : it->second;
  }

  void start(const std::string& name, nlohmann::json payload,
             std::shared_ptr<workflows::RunObserver> observer) override {
    auto workflow = find(name);
    if (!workflow) {
      observer->on_rejected(make_error("workflow_not_found", "No workflow named " + name + "."));
      return;
    }
    if (workflow->check_payload) {
      if (auto problem = workflow->check_payload(payload)) {
        observer->on_rejected(make_error("validation_failed", *problem,
                                         "Send a payload with what the workflow needs."));
        return;
      }
    }
    const std::string payload_json = payload.dump();  // RunRecord::payload_json, strict
    (void)payload_json;
    observer->on_rejected(make_error("unavailable", "No run engine while fuzzing."));
  }

 private:
  workflows::WorkflowTable table_;
};

inline harness::AgentDefinition fuzz_agent(const std::string& name, bool http, bool websocket) {
  harness::AgentDefinition definition;
  definition.name = name;
  definition.model = "sluice/echo";
  definition.expose_http = http;
  definition.expose_websocket = websocket;
  definition.source_file = "/fuzz-project/agents/" + name + ".toml";
  return definition;
}

// echo (HTTP and WebSocket), hidden (neither), socket-only, http-only.
inline harness::Project fuzz_project() {
  harness::Project project;
  project.root = "/fuzz-project";
  for (auto definition :
       {fuzz_agent("echo", true, true), fuzz_agent("hidden", false, false),
        fuzz_agent("socket-only", false, true), fuzz_agent("http-only", true, false)}) {
    project.agents.emplace(definition.name, definition);
  }
  return project;
}

// greet (HTTP and WebSocket, {{payload.name}}), whole ({{payload}} and a
// nested field; HTTP), quiet (no placeholder, not exposed).
inline std::unique_ptr<FuzzRuns> fuzz_runs(const char* target) {
  const auto& dir = scratch_dir(target);
  write_file(dir / "workflows" / "greet.toml",
             "agent = \"echo\"\nprompt = \"Write a greeting for {{payload.name}}.\"\n"
             "expose = [\"http\", \"websocket\"]\n");
  write_file(
      dir / "workflows" / "whole.toml",
      "agent = \"echo\"\nprompt = \"{{payload}} and {{payload.a.b}}\"\nexpose = [\"http\"]\n");
  write_file(dir / "workflows" / "quiet.toml", "agent = \"echo\"\nprompt = \"Hi\"\n");
  harness::Project project = fuzz_project();
  project.root = dir;
  return std::make_unique<FuzzRuns>(workflows::load_workflows(project));
}

}  // namespace sluice::fuzz
