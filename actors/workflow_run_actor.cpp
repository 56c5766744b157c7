#include "actors/workflow_run_actor.hpp"

#include <optional>

#include <spdlog/spdlog.h>
#include <caf/all.hpp>

#include "actors/continuation.hpp"
#include "actors/run_events.hpp"
#include "core/clock.hpp"

namespace sluice::actors::run_messages {
using event_atom = caf::atom_constant<caf::atom("runevent")>;
using finish_atom = caf::atom_constant<caf::atom("runfinish")>;
using EventPtr = std::shared_ptr<const nlohmann::json>;
using EndingPtr = std::shared_ptr<const persistence::RunEnding>;
}  // namespace sluice::actors::run_messages

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sluice::actors::run_messages::EventPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sluice::actors::run_messages::EndingPtr)

namespace sluice::actors {
namespace {

using persistence::NewRunEvent;
using persistence::RunEnding;
using persistence::RunRecord;
using persistence::RunStatus;
using persistence::StorageError;
using persistence::StorageResult;
using persistence::StoredRunEvent;
using persistence::Transaction;

using Indexes = std::vector<int64_t>;

// A storage failure is retried a few times, a little apart, before the run is
// given up (a live node's coordinator then ends it as interrupted).
constexpr int kMaxStorageRetries = 5;
constexpr std::chrono::milliseconds kRetryDelay{200};

NewRunEvent to_new_event(const nlohmann::json& event) {
  return {event.value("type", ""), now_ms(), event.dump()};
}

class WorkflowRunActor : public caf::event_based_actor {
 public:
  WorkflowRunActor(caf::actor_config& config, persistence::StorageExecutor* storage, RunRecord run,
                   WorkflowRunCallbacks callbacks)
      : caf::event_based_actor(config),
        storage_(storage),
        run_(std::move(run)),
        callbacks_(std::move(callbacks)) {}

  const char* name() const override { return "sluice.workflow_run"; }

  caf::behavior make_behavior() override {
    in_flight_ = {to_new_event(run_start_event(run_))};
    write(true);
    return {
        [this](continue_atom, const Continuation& k) { (*k)(); },
        [this](run_messages::event_atom, const run_messages::EventPtr& event) { append(*event); },
        [this](run_messages::finish_atom, const run_messages::EndingPtr& ending) {
          finish(*ending);
        },
    };
  }

  void append(const nlohmann::json& event) {
    if (ending_) return;
    pending_.push_back(to_new_event(event));
    flush();
  }

  void finish(RunEnding ending) {
    if (ending_) return;
    ending.ended_at_ms = now_ms();
    pending_.push_back(to_new_event(run_end_event(run_, ending)));
    ending_ = std::move(ending);
    flush();
  }

 private:
  caf::actor self() { return caf::actor_cast<caf::actor>(this); }

  // One write at a time keeps the events in the order they were received.
  void flush() {
    if (!created_ || !in_flight_.empty() || pending_.empty()) return;
    in_flight_.swap(pending_);
    write(false);
  }

  void write(bool create) {
    // The ending goes with the batch that holds run_end, the last event.
    const bool ends = ending_ && pending_.empty();
    std::optional<RunEnding> ending = ends ? ending_ : std::nullopt;
    storage_->submit<Indexes>(
        [run = run_, events = in_flight_, ending, create](Transaction& txn) {
          if (create) txn.create_run(run);
          return txn.append_run_events(run.run_id, run.owner_incarnation, events, ending);
        },
        [this, self = self(), create, ends](StorageResult<Indexes> result) {
          auto shared = std::make_shared<StorageResult<Indexes>>(std::move(result));
          continue_in(self, [this, shared, create, ends] { written(*shared, create, ends); });
        });
  }

  void written(const StorageResult<Indexes>& result, bool create, bool ends) {
    if (const auto* error = std::get_if<StorageError>(&result)) {
      if (error->kind == StorageError::Kind::failure && ++failures_ <= kMaxStorageRetries) {
        spdlog::warn("run {}: storing events failed ({}), retrying", run_.run_id, error->message);
        continue_after(this, kRetryDelay * failures_, [this, create] { write(create); });
        return;
      }
      lose(*error, create);
      return;
    }
    failures_ = 0;
    const Indexes& indexes = std::get<Indexes>(result);
    std::vector<StoredRunEvent> stored;
    stored.reserve(in_flight_.size());
    for (size_t i = 0; i < in_flight_.size() && i < indexes.size(); ++i) {
      stored.push_back({indexes[i], in_flight_[i].type, in_flight_[i].timestamp_ms,
                        in_flight_[i].data_json});
    }
    in_flight_.clear();
    if (!stored.empty()) run_.next_event_index = stored.back().event_index + 1;
    if (create) {
      created_ = true;
      if (callbacks_.on_created) callbacks_.on_created(run_);
    }
    if (callbacks_.on_durable) callbacks_.on_durable(stored);
    if (ends) {
      run_.status = ending_->is_error ? RunStatus::errored : RunStatus::completed;
      run_.is_error = ending_->is_error;
      run_.result_json = ending_->result_json;
      run_.error_json = ending_->error_json;
      run_.ended_at_ms = ending_->ended_at_ms;
      if (callbacks_.on_ended) callbacks_.on_ended(run_);
      quit();
      return;
    }
    flush();
  }

  void lose(const StorageError& error, bool create) {
    spdlog::error("run {}: {} ({})", run_.run_id,
                  create ? "could not be created" : "lost by this node", error.message);
    if (callbacks_.on_lost) {
      callbacks_.on_lost(
          error.kind == StorageError::Kind::fenced
              ? make_error("internal_error",
                           "The run was ended elsewhere while this node was running it.", "",
                           {{"runId", run_.run_id}, {"reason", "node_lost"}})
              : make_error("unavailable", "Storage is unavailable; the run could not go on.", "",
                           {{"runId", run_.run_id}, {"reason", "storage_failure"}}));
    }
    quit();
  }

  persistence::StorageExecutor* storage_;
  RunRecord run_;
  WorkflowRunCallbacks callbacks_;
  std::vector<NewRunEvent> pending_;
  std::vector<NewRunEvent> in_flight_;
  std::optional<RunEnding> ending_;
  bool created_ = false;
  int failures_ = 0;
};

}  // namespace

WorkflowRunHandle::WorkflowRunHandle(caf::actor actor)
    : actor_(std::make_shared<caf::actor>(std::move(actor))) {}

void WorkflowRunHandle::append(nlohmann::json event) const {
  caf::anon_send(*actor_, run_messages::event_atom::value,
                 run_messages::EventPtr(std::make_shared<const nlohmann::json>(std::move(event))));
}

void WorkflowRunHandle::finish(persistence::RunEnding ending) const {
  caf::anon_send(*actor_, run_messages::finish_atom::value,
                 run_messages::EndingPtr(
                     std::make_shared<const persistence::RunEnding>(std::move(ending))));
}

WorkflowRunHandle spawn_workflow_run(caf::actor_system& system,
                                     persistence::StorageExecutor& storage,
                                     persistence::RunRecord run, WorkflowRunCallbacks callbacks) {
  return WorkflowRunHandle(
      system.spawn<WorkflowRunActor>(&storage, std::move(run), std::move(callbacks)));
}

}  // namespace sluice::actors
