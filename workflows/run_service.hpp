#pragma once
// Starts workflow runs on this node and tells the asker what happens. Used by
// POST /workflows/:name, the workflow WebSocket and `sluice run`.
// Thread-safe and non-blocking: the run itself goes on a workflow thread.
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/public_error.hpp"
#include "persistence/records.hpp"
#include "workflows/workflow.hpp"

namespace sluice::workflows {

// Calls come in this order, from any thread (implementations must not block):
// on_rejected alone (no run was created), or on_started, then on_event* in
// index order (each already durable; only when wants_events()), then on_finished.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void on_started(const persistence::RunRecord& run) = 0;
  virtual void on_rejected(const PublicError& error) = 0;
  virtual void on_event(const nlohmann::json& event) = 0;  // with eventIndex
  virtual void on_finished(const persistence::RunRecord& run) = 0;
  virtual bool wants_events() const = 0;
};

class RunStarter {
 public:
  virtual ~RunStarter() = default;
  // The workflow of that name, or null. Definitions may be replaced (dev
  // reload), so the result is shared.
  virtual std::shared_ptr<const WorkflowDefinition> find(const std::string& name) const = 0;
  // Checks the payload, creates the run (durably) and runs it. Unknown name:
  // on_rejected(workflow_not_found); a payload the workflow refuses:
  // on_rejected(validation_failed).
  virtual void start(const std::string& workflow, nlohmann::json payload,
                     std::shared_ptr<RunObserver> observer) = 0;
};

}  // namespace sluice::workflows
