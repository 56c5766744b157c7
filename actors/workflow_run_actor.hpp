#pragma once
// The actor of one workflow run: the one place that orders its events. Events
// come from the workflow's own thread (logs) and from CAF workers (the events
// of the agent sessions it prompts); the actor persists them in the order it
// received them, a batch at a time on the storage thread, and announces them
// only once durable, so every reader sees the same gapless sequence.
//
// It creates the run first (record + run_start in one transaction), and ends
// it with run_end and the outcome in one transaction, then exits. If storage
// refuses (the run was ended by another node that believed this one dead) or
// fails for good, the run is lost to this node: on_lost says why.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <nlohmann/json.hpp>

#include "core/public_error.hpp"
#include "persistence/executor.hpp"
#include "persistence/records.hpp"

namespace sluice::actors {

struct WorkflowRunCallbacks {
  // The run record and run_start are durable.
  std::function<void(const persistence::RunRecord&)> on_created;
  // Events just made durable, in index order (run_start and run_end included).
  std::function<void(const std::vector<persistence::StoredRunEvent>&)> on_durable;
  // run_end and the outcome are durable; the final record.
  std::function<void(const persistence::RunRecord&)> on_ended;
  // The run could not be created, or this node lost it.
  std::function<void(const PublicError&)> on_lost;
};

// A handle for the run's producers; thread-safe, cheap to copy.
class WorkflowRunHandle {
 public:
  explicit WorkflowRunHandle(caf::actor actor);
  // `event` is a complete event object without eventIndex (type, runId,
  // timestamp, ...); it is appended after everything sent before.
  void append(nlohmann::json event) const;
  // Ends the run: run_end with the result (or error) after every event
  // appended before. Later appends are dropped.
  void finish(persistence::RunEnding ending) const;

 private:
  std::shared_ptr<caf::actor> actor_;
};

// `run` holds the new run (active, owned by this node's incarnation).
WorkflowRunHandle spawn_workflow_run(caf::actor_system& system,
                                     persistence::StorageExecutor& storage,
                                     persistence::RunRecord run, WorkflowRunCallbacks callbacks);

}  // namespace sluice::actors
