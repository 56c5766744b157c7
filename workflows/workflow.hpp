#pragma once
// What a workflow is: a finite run, payload in, result or error out, with a
// run id workflow:<name>:<ULID>. Declared in C++ (a function receiving a
// WorkflowContext) or as workflows/NAME.toml (an agent and a prompt).
//
// The function runs on a workflow thread of its own (never a CAF or io
// thread), so it may block: prompting an agent session waits for its outcome.
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "core/public_error.hpp"
#include "sandbox/sandbox.hpp"

namespace sluice::workflows {

// Thrown by a workflow (or by what it calls) to end its run with this public
// error. Any other exception ends the run with internal_error.
struct WorkflowError : std::runtime_error {
  explicit WorkflowError(PublicError error)
      : std::runtime_error(error.message), error(std::move(error)) {}
  PublicError error;
};

// Emits `log` events (level, message, attributes) into the run's stream. The
// levels are Flue's: info, warn and error; any other level is written as info.
class RunLogger {
 public:
  virtual ~RunLogger() = default;
  virtual void log(const std::string& level, const std::string& message,
                   const nlohmann::json& attributes = nlohmann::json::object()) = 0;
  void info(const std::string& message, const nlohmann::json& attributes = nlohmann::json::object()) {
    log("info", message, attributes);
  }
  void warn(const std::string& message, const nlohmann::json& attributes = nlohmann::json::object()) {
    log("warn", message, attributes);
  }
  void error(const std::string& message, const nlohmann::json& attributes = nlohmann::json::object()) {
    log("error", message, attributes);
  }
};

// One session of the run's agent instance (instance id = the run id). Its
// prompts are durable submissions like any other; their events join the run's.
class AgentSession {
 public:
  virtual ~AgentSession() = default;
  // Admits the prompt, waits for its outcome and returns the final answer's
  // text. Throws WorkflowError when the submission fails or is aborted.
  virtual std::string prompt(const std::string& text) = 0;
};

// An agent inside a run: its sandbox's files and shell, and its sessions.
class AgentHarness {
 public:
  virtual ~AgentHarness() = default;
  // The agent's sandbox (throws WorkflowError when it has none).
  virtual sandbox::Sandbox& fs() = 0;
  virtual sandbox::ExecResult shell(const std::string& command) = 0;
  virtual std::shared_ptr<AgentSession> session(const std::string& name = "default") = 0;
};

class WorkflowContext {
 public:
  virtual ~WorkflowContext() = default;
  virtual const nlohmann::json& payload() const = 0;
  virtual const std::string& run_id() const = 0;
  virtual RunLogger& log() = 0;
  // Throws WorkflowError (agent_not_found) for an agent the project lacks.
  virtual std::shared_ptr<AgentHarness> init(const std::string& agent) = 0;
};

struct WorkflowDefinition {
  std::string name;  // [A-Za-z0-9][A-Za-z0-9_-]*: never ':'
  bool expose_http = false;
  bool expose_websocket = false;
  std::string source_file;  // "" when built in code
  // Checked when a run is asked for, before it exists: a problem answers 400
  // validation_failed and no run is created. Empty function: any payload.
  std::function<std::optional<std::string>(const nlohmann::json& payload)> check_payload;
  // The run: its return value is the run's result.
  std::function<nlohmann::json(WorkflowContext&)> run;
};

}  // namespace sluice::workflows
