#include "workflows/run_context.hpp"

#include <future>
#include <mutex>

#include "actors/outcomes.hpp"
#include "core/clock.hpp"

namespace sluice::workflows {
namespace {

using persistence::SubmissionRecord;
using persistence::SubmissionState;

// Waits for one prompt's outcome and passes its events into the run. The
// session actor calls it from a CAF worker; the workflow thread waits on it.
class PromptWaiter : public actors::SubmissionObserver {
 public:
  PromptWaiter(actors::WorkflowRunHandle run, std::string run_id)
      : run_(std::move(run)), run_id_(std::move(run_id)) {}

  // A session actor that went away without an answer (the node is stopping).
  ~PromptWaiter() override {
    settle(make_error("unavailable", "The agent session stopped before answering.",
                      "The node is shutting down or lost the session."));
  }

  std::future<std::variant<SubmissionRecord, PublicError>> outcome() { return promise_.get_future(); }

  void on_admitted(const SubmissionRecord&, bool) override {}
  void on_rejected(const PublicError& error) override { settle(error); }
  void on_event(const nlohmann::json& event) override {
    nlohmann::json copy = event;
    copy["runId"] = run_id_;
    run_.append(std::move(copy));
  }
  void on_settled(const SubmissionRecord& record) override { settle(record); }
  bool wants_outcome() const override { return true; }
  bool wants_events() const override { return true; }

 private:
  template <class T>
  void settle(T value) {
    std::lock_guard lock(mutex_);
    if (settled_) return;
    settled_ = true;
    promise_.set_value(std::move(value));
  }

  actors::WorkflowRunHandle run_;
  std::string run_id_;
  std::mutex mutex_;
  bool settled_ = false;
  std::promise<std::variant<SubmissionRecord, PublicError>> promise_;
};

std::string answer_text(const SubmissionRecord& record) {
  if (!record.result_json) return "";
  const nlohmann::json result = nlohmann::json::parse(*record.result_json, nullptr, false);
  return result.is_string() ? result.get<std::string>() : result.dump();
}

class RunSession : public AgentSession {
 public:
  RunSession(SessionKey key, actors::WorkflowRunHandle run, const actors::SessionGateway* gateway)
      : key_(std::move(key)), run_(std::move(run)), gateway_(gateway) {}

  std::string prompt(const std::string& text) override {
    auto waiter = std::make_shared<PromptWaiter>(run_, key_.instance);
    auto outcome = waiter->outcome();
    actors::SubmitCommand command;
    command.key = key_;
    command.input_text = text;
    command.received_at_ns = steady_now_ns();
    command.observer = std::move(waiter);
    gateway_->submit(std::move(command));
    auto settled = outcome.get();
    if (auto* error = std::get_if<PublicError>(&settled)) throw WorkflowError(*error);
    const auto& record = std::get<SubmissionRecord>(settled);
    if (record.state != SubmissionState::completed) {
      throw WorkflowError(actors::outcome_error(record));
    }
    return answer_text(record);
  }

 private:
  SessionKey key_;
  actors::WorkflowRunHandle run_;
  const actors::SessionGateway* gateway_;
};

class RunAgent : public AgentHarness {
 public:
  RunAgent(std::string agent, std::string run_id, SandboxFactory sandbox_for,
           actors::WorkflowRunHandle run, const actors::SessionGateway* gateway)
      : agent_(std::move(agent)),
        run_id_(std::move(run_id)),
        sandbox_for_(std::move(sandbox_for)),
        run_(std::move(run)),
        gateway_(gateway) {}

  sandbox::Sandbox& fs() override {
    if (!sandbox_) {
      if (!sandbox_for_) {
        throw WorkflowError(make_error(
            "invalid_request", "The agent " + agent_ + " has no sandbox, so no fs or shell.",
            "Give the agent a [sandbox] (kind = \"local\" or \"remote\")."));
      }
      sandbox_ = sandbox_for_({agent_, run_id_, "default"});
    }
    return *sandbox_;
  }

  sandbox::ExecResult shell(const std::string& command) override {
    sandbox::ExecRequest request;
    request.command = command;
    return fs().exec(request);
  }

  std::shared_ptr<AgentSession> session(const std::string& name) override {
    if (name.empty() || name.rfind("task:", 0) == 0) {
      throw WorkflowError(make_error("invalid_request",
                                     "The session name \"" + name + "\" cannot be used.",
                                     "Use a non-empty name that does not start with \"task:\"."));
    }
    return std::make_shared<RunSession>(SessionKey{agent_, run_id_, name}, run_, gateway_);
  }

 private:
  std::string agent_;
  std::string run_id_;
  SandboxFactory sandbox_for_;
  actors::WorkflowRunHandle run_;
  const actors::SessionGateway* gateway_;
  std::shared_ptr<sandbox::Sandbox> sandbox_;
};

class RunLog : public RunLogger {
 public:
  RunLog(actors::WorkflowRunHandle run, std::string run_id)
      : run_(std::move(run)), run_id_(std::move(run_id)) {}

  void log(const std::string& level, const std::string& message,
           const nlohmann::json& attributes) override {
    run_.append({{"type", "log"},
                 {"runId", run_id_},
                 {"timestamp", iso8601(now_ms())},
                 {"level", level == "warn" || level == "error" ? level : "info"},
                 {"message", message},
                 {"attributes", attributes.is_object() ? attributes : nlohmann::json::object()}});
  }

 private:
  actors::WorkflowRunHandle run_;
  std::string run_id_;
};

class RunContext : public WorkflowContext {
 public:
  RunContext(nlohmann::json payload, std::string run_id, actors::WorkflowRunHandle run,
             std::shared_ptr<const RunDefinitions> definitions,
             const actors::SessionGateway* gateway)
      : payload_(std::move(payload)),
        run_id_(std::move(run_id)),
        run_(run),
        log_(run, run_id_),
        definitions_(std::move(definitions)),
        gateway_(gateway) {}

  const nlohmann::json& payload() const override { return payload_; }
  const std::string& run_id() const override { return run_id_; }
  RunLogger& log() override { return log_; }

  std::shared_ptr<AgentHarness> init(const std::string& agent) override {
    if (!definitions_->agents.contains(agent)) {
      throw WorkflowError(make_error("agent_not_found", "No agent named " + agent + "."));
    }
    auto sandbox = definitions_->sandboxes.find(agent);
    return std::make_shared<RunAgent>(
        agent, run_id_, sandbox == definitions_->sandboxes.end() ? SandboxFactory{} : sandbox->second,
        run_, gateway_);
  }

 private:
  nlohmann::json payload_;
  std::string run_id_;
  actors::WorkflowRunHandle run_;
  RunLog log_;
  std::shared_ptr<const RunDefinitions> definitions_;
  const actors::SessionGateway* gateway_;
};

}  // namespace

std::unique_ptr<WorkflowContext> make_run_context(nlohmann::json payload, std::string run_id,
                                                  actors::WorkflowRunHandle run,
                                                  std::shared_ptr<const RunDefinitions> definitions,
                                                  const actors::SessionGateway* gateway) {
  return std::make_unique<RunContext>(std::move(payload), std::move(run_id), std::move(run),
                                      std::move(definitions), gateway);
}

}  // namespace sluice::workflows
