#include "workflows/run_engine.hpp"

#include <condition_variable>
#include <future>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/spdlog.h>

#include "actors/workflow_run_actor.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/replaceable.hpp"
#include "workflows/run_context.hpp"
#include "workflows/run_json.hpp"

namespace sluice::workflows {
namespace {

using persistence::RunEnding;
using persistence::RunRecord;

RunEnding run_function(const WorkflowDefinition& workflow, WorkflowContext& context) {
  RunEnding ending;
  PublicError error;
  try {
    ending.result_json = workflow.run(context).dump();
    return ending;
  } catch (const WorkflowError& failure) {
    error = failure.error;
  } catch (const std::exception& failure) {
    // The exception text may carry internals: it goes to the log only.
    spdlog::error("run {}: the workflow threw: {}", context.run_id(), failure.what());
    error = make_error("internal_error", "The workflow failed with an unexpected error.",
                       "The server log has the details.");
  }
  if (!error.meta.is_object()) error.meta = nlohmann::json::object();
  error.meta["runId"] = context.run_id();
  ending.is_error = true;
  ending.error_json = error.to_json().dump();
  return ending;
}

// Runs whose actor has not ended yet, so that shutdown can wait for their last
// write. Shared with the callbacks, which may outlive the engine.
class ActiveRuns {
 public:
  void add() {
    std::lock_guard lock(mutex_);
    ++count_;
  }
  void remove() {
    std::lock_guard lock(mutex_);
    if (--count_ == 0) idle_.notify_all();
  }
  bool wait_idle(std::chrono::milliseconds patience) {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, patience, [this] { return count_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  int count_ = 0;
};

constexpr std::chrono::seconds kShutdownPatience{10};

}  // namespace

struct RunEngine::Impl {
  RunEngineDeps deps;
  boost::asio::thread_pool pool;
  Replaceable<RunDefinitions> definitions;
  std::shared_ptr<ActiveRuns> active = std::make_shared<ActiveRuns>();

  Impl(RunEngineDeps d, RunDefinitions defs)
      : deps(std::move(d)),
        pool(deps.threads),
        definitions(std::move(defs)) {}

  std::shared_ptr<const RunDefinitions> current() const { return definitions.current(); }
};

RunEngine::RunEngine(RunEngineDeps deps, RunDefinitions definitions)
    : impl_(std::make_unique<Impl>(std::move(deps), std::move(definitions))) {}

RunEngine::~RunEngine() {
  impl_->pool.join();
  if (!impl_->active->wait_idle(kShutdownPatience)) {
    spdlog::warn("some workflow runs did not record their end; they will be ended as interrupted");
  }
}

std::shared_ptr<const WorkflowDefinition> RunEngine::find(const std::string& name) const {
  auto definitions = impl_->current();
  auto it = definitions->workflows.find(name);
  return it == definitions->workflows.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const WorkflowDefinition>> RunEngine::list() const {
  std::vector<std::shared_ptr<const WorkflowDefinition>> all;
  for (const auto& [name, workflow] : impl_->current()->workflows) all.push_back(workflow);
  return all;
}

void RunEngine::replace(RunDefinitions definitions) {
  impl_->definitions.replace(std::move(definitions));
}

void RunEngine::start(const std::string& name, nlohmann::json payload,
                      std::shared_ptr<RunObserver> observer) {
  auto definitions = impl_->current();
  auto found = definitions->workflows.find(name);
  if (found == definitions->workflows.end()) {
    observer->on_rejected(make_error("workflow_not_found", "No workflow named " + name + "."));
    return;
  }
  std::shared_ptr<const WorkflowDefinition> workflow = found->second;
  if (workflow->check_payload) {
    if (auto problem = workflow->check_payload(payload)) {
      observer->on_rejected(make_error("validation_failed", *problem,
                                       "Send a payload with what the workflow needs."));
      return;
    }
  }
  RunRecord run;
  run.run_id = "workflow:" + name + ":" + new_ulid();
  run.workflow_name = name;
  run.payload_json = payload.dump();
  run.started_at_ms = now_ms();
  run.owner_node = impl_->deps.node.node_id;
  run.owner_incarnation = impl_->deps.node.incarnation;

  // The run actor's handle reaches the workflow thread through this: the
  // thread starts only after the run is durable, which is after the spawn.
  auto handle = std::make_shared<std::promise<actors::WorkflowRunHandle>>();
  auto handle_ready = handle->get_future().share();
  auto started = std::make_shared<std::atomic<bool>>(false);
  RunHub* hub = impl_->deps.hub;
  Impl* impl = impl_.get();

  actors::WorkflowRunCallbacks callbacks;
  callbacks.on_created = [=](const RunRecord& created) {
    started->store(true);
    observer->on_started(created);
    boost::asio::post(impl->pool, [=] {
      actors::WorkflowRunHandle run_handle = handle_ready.get();
      auto context = make_run_context(payload, created.run_id, run_handle, definitions,
                                      impl->deps.gateway);
      run_handle.finish(run_function(*workflow, *context));
    });
  };
  callbacks.on_durable = [observer, hub, run_id = run.run_id](
                             const std::vector<persistence::StoredRunEvent>& events) {
    if (events.empty()) return;
    if (observer->wants_events()) {
      for (const auto& event : events) observer->on_event(run_event_json(event));
    }
    if (hub) hub->publish(run_id, events.back().event_index, events.back().type == "run_end");
  };
  auto active = impl_->active;
  callbacks.on_ended = [observer, active](const RunRecord& ended) {
    observer->on_finished(ended);
    active->remove();
  };
  callbacks.on_lost = [observer, started, run, active](const PublicError& error) {
    active->remove();
    if (!started->load()) {
      observer->on_rejected(error);
      return;
    }
    RunRecord lost = run;
    lost.status = persistence::RunStatus::errored;
    lost.is_error = true;
    lost.ended_at_ms = now_ms();
    lost.error_json = error.to_json().dump();
    observer->on_finished(lost);
  };
  active->add();
  handle->set_value(actors::spawn_workflow_run(*impl_->deps.system, *impl_->deps.storage,
                                               std::move(run), std::move(callbacks)));
}

}  // namespace sluice::workflows
