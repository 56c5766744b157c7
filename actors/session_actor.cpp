#include "actors/session_actor.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <optional>
#include <random>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "actors/compaction.hpp"
#include "actors/continuation.hpp"
#include "actors/messages.hpp"
#include "actors/outcome_watch.hpp"
#include "actors/outcomes.hpp"
#include "actors/recovery.hpp"
#include "actors/session_events.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/untrusted_json.hpp"

namespace sluice::actors {
namespace {

using persistence::AdmitResult;
using persistence::AdmitStatus;
using persistence::ClaimResult;
using persistence::SessionMutation;
using persistence::StorageError;
using persistence::StorageResult;
using persistence::SubmissionKind;
using persistence::SubmissionPatch;
using persistence::SubmissionRecord;
using persistence::SubmissionState;
using persistence::Transaction;

PublicError unavailable(const std::string& message, const std::string& submission_id = {}) {
  nlohmann::json meta = nullptr;
  if (!submission_id.empty()) {
    meta = {{"submissionId", submission_id}, {"reason", "owner_unavailable"}};
  }
  return make_error("unavailable", message,
                    submission_id.empty() ? "" : "The submission stays admitted; poll its record.",
                    std::move(meta));
}

// One durable step of the session: settlements, history and, optionally, the
// start of the next submission, all in one fenced mutation.
struct Transition {
  SessionMutation mutation;
  std::vector<SubmissionRecord> settled;
  bool starts_next = false;    // running_ becomes startable once committed
  bool restarts_turn = false;  // a retry of the running submission's turn
  std::function<void(const StorageError*)> after_commit;

  bool empty() const {
    return mutation.append.empty() && mutation.entry_patches.empty() && mutation.patches.empty() &&
           !after_commit;
  }
};

struct Running {
  QueuedSubmission item;  // the record as it reads once the start committed
  bool started = false;   // its start is committed; a turn may run
  bool abort_requested = false;
  uint64_t turn = 0;  // token of the current model turn; stale callbacks are ignored
  std::string turn_id;
  int64_t turn_started_ns = 0;
  std::shared_ptr<harness::TurnHandle> handle;
  int turns_taken = 0;                          // model turns of this attempt
  std::vector<harness::ToolCall> pending_calls;  // recorded, not yet run, in order
  std::shared_ptr<harness::ToolBox> tools;
  bool compacting = false;         // the current model turn is a summary (compaction.hpp)
  int compactions = 0;             // of this attempt
  int64_t compaction_through = 0;  // the position the summary being made covers
  int64_t messages_before_compaction = 0;  // what the model was given before it
  // Whether anyone streams this submission's events: when nobody does, its
  // turns' text deltas are not even sent to the actor. Read by the relay.
  std::shared_ptr<std::atomic<bool>> streaming = std::make_shared<std::atomic<bool>>(false);
  int64_t input_tokens = 0;        // used by the submission's turns, on any node
  int64_t output_tokens = 0;

  std::string usage_json() const {
    return nlohmann::json{{"inputTokens", input_tokens}, {"outputTokens", output_tokens}}.dump();
  }
};

// A conversation still too long after this many summaries in one attempt is
// failed rather than summarised again.
constexpr int kMaxCompactions = 2;

class SessionActor;

// Relays a model's callbacks (on the model's thread) into the actor.
class TurnRelay : public harness::TurnObserver {
 public:
  TurnRelay(caf::actor self, SessionActor* actor, uint64_t turn,
            std::shared_ptr<const std::atomic<bool>> streaming)
      : self_(std::move(self)), actor_(actor), turn_(turn), streaming_(std::move(streaming)) {}
  void on_text_delta(std::string_view delta) override;
  void on_finished(harness::TurnResult result) override;
  void on_failed(PublicError error, bool transient) override;

 private:
  caf::actor self_;
  SessionActor* actor_;  // only dereferenced inside the actor's own continuation
  uint64_t turn_;
  std::shared_ptr<const std::atomic<bool>> streaming_;
};

class SessionActor : public caf::event_based_actor {
 public:
  SessionActor(caf::actor_config& config, SessionKey key, SessionContextPtr context,
               caf::actor router)
      : caf::event_based_actor(config),
        key_(std::move(key)),
        context_(std::move(context)),
        agent_(context_->agent(key_.agent)),
        limits_(agent_ ? agent_->limits : context_->limits),
        router_(std::move(router)) {}

  const char* name() const override { return "sluice.session"; }

  caf::behavior make_behavior() override {
    claim();
    return {
        [this](continue_atom, const Continuation& k) { (*k)(); },
        [this](submit_atom, const SubmitPtr& command) {
          ++received_;
          on_submit(command);
        },
        [this](abort_atom, const AbortPtr& command) {
          ++received_;
          on_abort(command);
        },
        [this](delete_atom, const DeletePtr& command) {
          ++received_;
          on_delete(command);
        },
        [this](ensure_atom) {
          ++received_;
          maybe_idle();
        },
        [this](shutdown_atom) { begin_shutdown(); },
        [this](handoff_atom) {
          // From now on commands go back to the router, which parks them until
          // this actor is gone and then sends them to the new owner.
          bounce_ = true;
          handing_off_ = true;
          begin_shutdown();
        },
    };
  }

  void on_exit() override {
    const int64_t left = static_cast<int64_t>(queue_.size()) + (running_ ? 1 : 0);
    context_->metrics->queue_depth_add(-left);
    context_->metrics->adopted(-left);
  }

  // --- turn callbacks, run inside the actor ------------------------------------------
  void on_delta(uint64_t turn, const std::string& delta) {
    if (!current_turn(turn) || running_->compacting) return;
    // "text" is the name Flue's clients read; "delta" is ours and stays.
    emit(running_->item.record, "text_delta",
         {{"text", delta}, {"delta", delta}, {"turnId", running_->turn_id}});
  }

  void on_turn_finished(uint64_t turn, const harness::TurnResult& result) {
    if (!current_turn(turn)) return;
    Running& run = *running_;
    const SubmissionRecord& record = run.item.record;
    record_turn_metrics(run);
    run.input_tokens += result.input_tokens;
    run.output_tokens += result.output_tokens;
    if (run.compacting) {
      on_summary(result);
      return;
    }
    if (streamed(record)) {
      const nlohmann::json message = assistant_message(result.text, result.tool_calls);
      emit(record, "message_end", {{"turnId", run.turn_id}, {"message", message}});
      emit(record, "turn",
           {{"turnId", run.turn_id},
            {"purpose", "agent"},
            {"model", agent_->definition.model},
            {"durationMs", (steady_now_ns() - run.turn_started_ns) / 1'000'000},
            {"output", message},
            {"usage", prompt_usage(result.input_tokens, result.output_tokens)},
            {"stopReason", result.tool_calls.empty() ? "stop" : "toolUse"},
            {"isError", false}});
    }
    if (!result.tool_calls.empty()) {
      on_tool_calls(result);
      return;
    }
    if (streamed(record)) {
      nlohmann::json messages = submission_messages(history_, record.sequence);
      messages.push_back(assistant_message(result.text, {}));
      emit(record, "agent_end", {{"messages", std::move(messages)}});
    }

    Transition t;
    t.mutation.append.push_back(entry_of(record, "assistant", result.text, now_ms()));
    add_settlement(t, settle_completed(record, nlohmann::json(result.text).dump(), now_ms()));
    running_.reset();
    commit(std::move(t));
  }

  // The turn asked for tools: record the calls (and the turn's text), then run
  // them one by one, recording each result, then ask the model again.
  void on_tool_calls(const harness::TurnResult& result) {
    Running& run = *running_;
    const SubmissionRecord& record = run.item.record;
    ++run.turns_taken;
    Transition t;
    if (!run.tools || run.turns_taken >= agent_->definition.max_turns) {
      const std::string why = run.tools ? "Stopped: the agent reached its limit of model turns."
                                        : "Stopped: the model called a tool but this agent has none.";
      t.mutation.append.push_back(interruption_entry(record, why, now_ms()));
      add_settlement(t, settle_failed(record,
                                      failed_error(record.id,
                                                   run.tools ? "exceeded_max_turns" : "no_tools",
                                                   why, false),
                                      now_ms()));
      running_.reset();
      commit(std::move(t));
      return;
    }
    t.mutation.append.push_back(entry_of(record, "assistant", result.text, now_ms()));
    for (const auto& call : result.tool_calls) {
      t.mutation.append.push_back(tool_call_entry(record, call, now_ms()));
    }
    add_usage(t);
    run.pending_calls = result.tool_calls;
    const uint64_t token = run.turn;
    t.after_commit = [this, token](const StorageError* error) {
      if (!error) run_next_tool(token);
    };
    commit(std::move(t));
  }

  void run_next_tool(uint64_t token) {
    if (!current_turn(token)) return;
    Running& run = *running_;
    if (run.abort_requested || phase_ != Phase::ready) {
      if (phase_ == Phase::stopping) release_running();
      return;
    }
    if (run.pending_calls.empty()) {
      start_turn(true);
      return;
    }
    const harness::ToolCall call = run.pending_calls.front();
    nlohmann::json args = parse_untrusted_json(call.args_json).value;
    if (args.is_discarded()) args = call.args_json;
    emit(run.item.record, "tool_start",
         {{"toolName", call.name}, {"toolCallId", call.id}, {"args", args}});
    const int64_t started_ns = steady_now_ns();
    auto self = handle();
    context_->tool_runner->run(
        run.tools, call.name, call.args_json,
        [self, this, token, call, started_ns](harness::ToolOutcome outcome) {
          continue_in(self, [this, token, call, started_ns, outcome = std::move(outcome)] {
            on_tool_done(token, call, outcome, started_ns);
          });
        });
  }

  void on_tool_done(uint64_t token, const harness::ToolCall& call,
                    const harness::ToolOutcome& outcome, int64_t started_ns) {
    if (!current_turn(token)) return;  // aborted, timed out or lost meanwhile
    Running& run = *running_;
    run.pending_calls.erase(run.pending_calls.begin());
    Transition t;
    t.mutation.append.push_back(tool_result_entry(run.item.record, call, outcome, now_ms()));
    const int64_t duration_ms = (steady_now_ns() - started_ns) / 1'000'000;
    t.after_commit = [this, token, call, outcome, duration_ms](const StorageError* error) {
      if (error || !current_turn(token)) return;
      emit(running_->item.record, "tool_call",
           {{"toolName", call.name},
            {"toolCallId", call.id},
            {"isError", outcome.is_error},
            {"result", outcome.content},
            {"durationMs", duration_ms}});
      run_next_tool(token);
    };
    commit(std::move(t));
  }

  void on_turn_failed(uint64_t turn, const PublicError& error, bool transient) {
    if (!current_turn(turn)) return;
    Running& run = *running_;
    record_turn_metrics(run);
    run.handle.reset();
    const SubmissionRecord& record = run.item.record;
    run.compacting = false;
    const bool overflow = error.meta.is_object() &&
                          error.meta.value("reason", "") == harness::kReasonContextOverflow;
    if (overflow && phase_ == Phase::ready && !run.abort_requested &&
        run.compactions < kMaxCompactions && compact()) {
      return;
    }
    if (transient && phase_ == Phase::stopping) {
      release_running();
      return;
    }
    if (transient && record.attempts < limits_.max_attempts) {
      auto delay = backoff(record.attempts);
      // A provider that said when to come back (Retry-After) is believed.
      if (error.meta.is_object() && error.meta.contains("retryAfterMs") &&
          error.meta["retryAfterMs"].is_number_integer()) {
        delay = std::max(delay, std::chrono::milliseconds(error.meta["retryAfterMs"].get<int64_t>()));
      }
      spdlog::warn("session {}: transient model error ({}); retrying in {} ms", key_.str(),
                   error.message, delay.count());
      const uint64_t token = run.turn;
      continue_after(this, delay, [this, token] { retry_turn(token); });
      return;
    }
    const bool exhausted = transient;
    Transition t;
    const std::string reason = exhausted  ? kReasonExhaustedRetryBudget
                               : overflow ? harness::kReasonContextOverflow
                                          : kReasonProviderError;
    if (exhausted) {
      t.mutation.append.push_back(interruption_entry(
          record, "Stopped: the model provider kept failing and the retry budget ran out.",
          now_ms()));
    }
    add_settlement(
        t, settle_failed(record, failed_error(record.id, reason, error.message, true), now_ms()));
    running_.reset();
    commit(std::move(t));
  }

 private:
  enum class Phase { claiming, ready, stopping };

  std::shared_ptr<TurnRelay> make_relay(Running& run) {
    run.streaming->store(streamed(run.item.record), std::memory_order_relaxed);
    return std::make_shared<TurnRelay>(handle(), this, run.turn, run.streaming);
  }

  // --- compaction ------------------------------------------------------------------------
  // The conversation outgrew the model's context: ask the same model for a
  // summary of its oldest part. False when there is nothing to summarise.
  bool compact() {
    Running& run = *running_;
    const SubmissionRecord& record = run.item.record;
    const auto cut = compaction_cut(history_, record.id);
    if (!cut) return false;
    ++run.compactions;
    run.compacting = true;
    run.compaction_through = history_[*cut - 1].position;
    run.turn = ++turn_counter_;
    run.turn_started_ns = steady_now_ns();
    if (streamed(record)) {
      const auto conversation = model_conversation(history_, history_.size());
      run.messages_before_compaction = static_cast<int64_t>(conversation.size());
      emit(record, "compaction_start",
           {{"reason", "overflow"},
            {"estimatedTokens", estimated_tokens(conversation)},
            {"turnId", run.turn_id}});
    }
    auto relay = make_relay(run);
    run.handle = agent_->model->start_turn(summary_request(history_, *cut), std::move(relay));
    arm_timeout(run.turn);
    return true;
  }

  // The summary is recorded, then the turn that overflowed runs again over it.
  void on_summary(const harness::TurnResult& result) {
    Running& run = *running_;
    run.compacting = false;
    Transition t;
    t.mutation.append.push_back(
        compaction_entry(run.item.record, result.text, run.compaction_through, now_ms()));
    add_usage(t);
    const uint64_t token = run.turn;
    t.after_commit = [this, token, through = run.compaction_through,
                      words = result.output_tokens](const StorageError* error) {
      if (error || !current_turn(token)) return;
      if (streamed(running_->item.record)) {
        emit(running_->item.record, "compaction",
             {{"reason", "overflow"},
              {"messagesBefore", running_->messages_before_compaction},
              {"messagesAfter",
               static_cast<int64_t>(model_conversation(history_, history_.size()).size())},
              {"durationMs", (steady_now_ns() - running_->turn_started_ns) / 1'000'000},
              {"compactedThrough", through},
              {"summaryTokens", words}});
      }
      if (running_->abort_requested || phase_ != Phase::ready) {
        if (phase_ == Phase::stopping) release_running();
        return;
      }
      start_turn(true);
    };
    commit(std::move(t));
  }

  caf::actor handle() { return caf::actor_cast<caf::actor>(this); }

  bool current_turn(uint64_t turn) const {
    return running_ && running_->started && running_->turn == turn && running_->handle;
  }

  std::chrono::milliseconds backoff(int attempt) {
    thread_local std::mt19937 rng{std::random_device{}()};
    const int64_t base = context_->limits.retry_base_delay_ms << std::min(attempt, 6);
    std::uniform_int_distribution<int64_t> jitter(0, base / 2);
    return std::chrono::milliseconds(base + jitter(rng));
  }

  void record_turn_metrics(const Running& run) {
    context_->metrics->turn_finished(static_cast<double>(steady_now_ns() - run.turn_started_ns) /
                                     1e9);
  }

  // --- claim and recovery -----------------------------------------------------------
  // What a session actor starts from: its claim and, once granted, the whole
  // conversation, which every model turn is given.
  struct Rehydration {
    ClaimResult claim;
    std::vector<persistence::HistoryEntry> history;
  };

  void claim() {
    if (claim_started_ms_ == 0) claim_started_ms_ = now_ms();
    auto self = handle();
    context_->storage->submit<Rehydration>(
        [key = key_, node = context_->node](Transaction& txn) {
          Rehydration out{txn.claim_session(key, node), {}};
          if (!out.claim.granted) return out;
          out.history.reserve(static_cast<size_t>(out.claim.history_length));
          for (persistence::Page page{0, 1000};;) {
            auto entries = txn.read_history(key, page);
            if (entries.empty()) break;
            page.after = entries.back().position;
            std::move(entries.begin(), entries.end(), std::back_inserter(out.history));
          }
          return out;
        },
        [self, this](StorageResult<Rehydration> result) {
          auto shared = std::make_shared<StorageResult<Rehydration>>(std::move(result));
          continue_in(self, [this, shared] { on_claimed(std::move(*shared)); });
        });
  }

  void on_claimed(StorageResult<Rehydration> result) {
    if (auto* error = std::get_if<StorageError>(&result)) {
      spdlog::error("session {}: cannot claim: {}", key_.str(), error->message);
      fail_everything(unavailable("Storage is unavailable; try again shortly."), Exit::failed);
      return;
    }
    const ClaimResult& claim = std::get<Rehydration>(result).claim;
    if (!claim.granted) {
      on_claim_refused(claim.holder);
      return;
    }
    fence_ = {context_->node.node_id, claim.epoch};
    last_sequence_ = claim.next_sequence - 1;
    history_ = std::move(std::get<Rehydration>(result).history);
    RecoveryPlan plan = plan_recovery(claim, limits_, now_ms());
    const auto adopted = static_cast<int64_t>(plan.queue.size() + plan.settled.size());
    context_->metrics->adopted(adopted);
    context_->metrics->queue_depth_add(adopted);
    queue_ = std::move(plan.queue);
    if (!plan.settled.empty()) {
      spdlog::info("session {}: recovery settled {} submission(s), {} to run", key_.str(),
                   plan.settled.size(), queue_.size());
    }
    const bool stop_requested = phase_ == Phase::stopping;
    phase_ = stop_requested ? Phase::stopping : Phase::ready;
    Transition t;
    t.mutation = std::move(plan.mutation);
    t.settled = std::move(plan.settled);
    commit(std::move(t));
    auto deferred = std::move(deferred_);
    for (auto& work : deferred) work();
    maybe_finish_shutdown();
    maybe_idle();
  }

  // Another live node holds the session: it is handing it over, or the members
  // do not agree yet on who owns it. Both settle within a lease and a turn, so
  // try again for that long, holding the commands that wait for the claim.
  void on_claim_refused(const std::string& holder) {
    if (phase_ == Phase::stopping) {
      if (handing_off_) {
        leave();
      } else {
        fail_everything(unavailable("This node is shutting down; retry the request."),
                        Exit::normal);
      }
      return;
    }
    if (now_ms() - claim_started_ms_ >= context_->limits.claim_patience_ms) {
      spdlog::warn("session {}: still held by node {}; giving up", key_.str(), holder);
      phase_ = Phase::stopping;
      auto deferred = std::move(deferred_);
      deferred_.clear();
      held_elsewhere_ = holder;
      failed_ = true;
      for (auto& work : deferred) work();  // each is rejected, naming the holder
      leave();
      return;
    }
    claim_retry_ms_ = std::min<int64_t>(std::max<int64_t>(claim_retry_ms_ * 2, 25), 500);
    continue_after(this, std::chrono::milliseconds(claim_retry_ms_), [this] { claim(); });
  }

  // --- admission ---------------------------------------------------------------------
  void reject(const SubmitCommand& command, const PublicError& error) {
    context_->metrics->rejected(error.type);
    command.observer->on_rejected(error);
  }

  void on_submit(const SubmitPtr& command) {
    if (phase_ == Phase::claiming) {
      deferred_.push_back([this, command] { on_submit(command); });
      return;
    }
    if (phase_ == Phase::stopping) {
      if (bounce_) {
        send(router_, reroute_atom::value, command);
      } else {
        reject(*command, stopping_error());
      }
      return;
    }
    const size_t depth = queue_.size() + pending_admits_ + (running_ ? 1 : 0);
    if (depth >= context_->limits.max_queue_depth) {
      reject(*command, make_error("overloaded", "The session's queue is full.",
                                  "Retry after the queued work has progressed.",
                                  {{"retryAfter", 1}, {"reason", "session_queue_full"}}));
      return;
    }
    if (context_->metrics->unsettled() >= context_->limits.node_admission_limit) {
      reject(*command, make_error("overloaded", "This node is at its admission limit.",
                                  "Retry shortly.", {{"retryAfter", 1}, {"reason", "node_full"}}));
      return;
    }
    persistence::NewSubmission submission;
    submission.id = new_id("sub_");
    if (command->kind == SubmissionKind::dispatch) submission.dispatch_id = new_id("dsp_");
    submission.kind = command->kind;
    submission.input_text = command->input_text;
    submission.accepted_at_ms = now_ms();
    submission.idempotency = command->idempotency;
    ++pending_admits_;
    auto self = handle();
    context_->storage->submit<AdmitResult>(
        [key = key_, fence = fence_, submission = std::move(submission)](Transaction& txn) {
          return txn.admit(key, fence, submission);
        },
        [self, this, command](StorageResult<AdmitResult> result) {
          continue_in(self, [this, command, result = std::move(result)]() mutable {
            on_admitted(command, std::move(result));
          });
        });
  }

  void on_admitted(const SubmitPtr& command, StorageResult<AdmitResult> result) {
    --pending_admits_;
    if (auto* error = std::get_if<StorageError>(&result)) {
      if (error->kind == StorageError::Kind::fenced) {
        reject(*command, unavailable("The session moved to another owner; retry the request."));
        lost_ownership();
        return;
      }
      spdlog::error("session {}: admission failed: {}", key_.str(), error->message);
      reject(*command, unavailable("Storage is unavailable; the input was not admitted."));
      maybe_finish_shutdown();
      return;
    }
    AdmitResult& admit = std::get<AdmitResult>(result);
    SubmissionObserver& observer = *command->observer;
    switch (admit.status) {
      case AdmitStatus::idempotency_conflict:
        reject(*command,
               make_error("idempotency_conflict",
                          "This Idempotency-Key was already used with a different request.",
                          "Use a new key for a different request."));
        break;
      case AdmitStatus::replayed:
        observer.on_admitted(admit.record, true);
        if (persistence::is_terminal(admit.record.state)) {
          observer.on_settled(admit.record);
        } else if (observer.wants_outcome()) {
          waiters_[admit.record.id].push_back(command->observer);
          if (running_ && running_->item.record.id == admit.record.id && observer.wants_events()) {
            running_->streaming->store(true, std::memory_order_relaxed);
          }
        }
        break;
      case AdmitStatus::admitted: {
        const double seconds = static_cast<double>(steady_now_ns() - command->received_at_ns) / 1e9;
        context_->metrics->admitted(command->kind == SubmissionKind::dispatch, seconds);
        context_->metrics->queue_depth_add(1);
        last_sequence_ = std::max(last_sequence_, admit.record.sequence);
        observer.on_admitted(admit.record, false);
        if (observer.wants_outcome()) waiters_[admit.record.id].push_back(command->observer);
        queue_.push_back({std::move(admit.record), true});
        if (!running_) commit({});
        break;
      }
    }
    maybe_finish_shutdown();
    maybe_idle();
  }

  // --- the durable step ----------------------------------------------------------------
  void add_settlement(Transition& t, Settlement settlement) {
    if (running_ && settlement.record.id == running_->item.record.id &&
        (running_->input_tokens > 0 || running_->output_tokens > 0)) {
      settlement.patch.usage_json = settlement.record.usage_json = running_->usage_json();
    }
    t.mutation.patches.push_back(std::move(settlement.patch));
    t.settled.push_back(std::move(settlement.record));
  }

  // The running submission's tokens so far, so a later owner adds to them.
  void add_usage(Transition& t) {
    SubmissionPatch patch;
    patch.id = running_->item.record.id;
    patch.usage_json = running_->usage_json();
    t.mutation.patches.push_back(std::move(patch));
  }

  // Moves the next queued submission into running_, as part of `t`.
  void add_start(Transition& t) {
    take_current_agent();
    QueuedSubmission item = std::move(queue_.front());
    queue_.pop_front();
    SubmissionRecord& record = item.record;
    SubmissionPatch patch;
    patch.id = record.id;
    patch.state = SubmissionState::running;
    patch.last_owner = context_->node.node_id;
    if (item.consumes_attempt) patch.attempts = record.attempts + 1;
    if (record.released) patch.released = false;
    if (record.started_at_ms == 0) patch.started_at_ms = now_ms();
    if (!record.input_applied) {
      patch.input_applied = true;
      t.mutation.append.push_back(entry_of(record, "user", record.input_text, now_ms()));
    }
    record.state = SubmissionState::running;
    record.last_owner = context_->node.node_id;
    record.attempts = patch.attempts.value_or(record.attempts);
    record.released = false;
    record.input_applied = true;
    record.started_at_ms = patch.started_at_ms.value_or(record.started_at_ms);
    t.mutation.patches.push_back(std::move(patch));
    t.starts_next = true;
    running_.emplace();
    if (record.usage_json) {
      const auto usage = nlohmann::json::parse(*record.usage_json, nullptr, false);
      if (usage.is_object()) {
        running_->input_tokens = usage.value("inputTokens", int64_t{0});
        running_->output_tokens = usage.value("outputTokens", int64_t{0});
      }
    }
    running_->item = std::move(item);
  }

  // A reload (sluice dev) replaces agent definitions; each submission runs
  // with the one current when it starts.
  void take_current_agent() {
    auto current = context_->agent(key_.agent);
    if (current == agent_) return;
    agent_ = std::move(current);
    limits_ = agent_ ? agent_->limits : context_->limits;
    tools_.reset();
  }

  void commit(Transition t) {
    // While a delete waits, nothing starts: the next turn must not see the
    // conversation that is about to go.
    if (phase_ == Phase::ready && !running_ && !queue_.empty() && deletes_.empty() &&
        deleting_.empty()) {
      add_start(t);
    }
    if (t.empty()) return;
    ++inflight_;
    auto shared = std::make_shared<Transition>(std::move(t));
    auto self = handle();
    context_->storage->submit<std::vector<int64_t>>(
        [key = key_, fence = fence_, shared](Transaction& txn) {
          return txn.mutate(key, fence, shared->mutation);
        },
        [self, this, shared](StorageResult<std::vector<int64_t>> result) {
          continue_in(
              self, [this, shared, result = std::move(result)] { on_committed(*shared, result); });
        });
  }

  void on_committed(Transition& t, const StorageResult<std::vector<int64_t>>& result) {
    --inflight_;
    if (auto* error = std::get_if<StorageError>(&result)) {
      if (t.after_commit) t.after_commit(error);
      spdlog::error("session {}: write refused: {}", key_.str(), error->message);
      if (error->kind == StorageError::Kind::fenced) {
        lost_ownership();
      } else {
        fail_everything(unavailable("Storage is unavailable."), Exit::failed);
      }
      return;
    }
    remember(t.mutation, std::get<std::vector<int64_t>>(result));
    for (const SubmissionRecord& record : t.settled) notify_settled(record);
    if (t.after_commit) t.after_commit(nullptr);
    if ((t.starts_next || t.restarts_turn) && running_) {
      running_->started = true;
      if (running_->abort_requested) {
        Transition abort;
        add_settlement(abort, settle_aborted(running_->item.record, now_ms()));
        running_.reset();
        commit(std::move(abort));
      } else if (phase_ == Phase::stopping) {
        release_running();
      } else {
        start_turn(t.restarts_turn);
      }
    } else if (!running_) {
      commit({});
    }
    maybe_delete();
    maybe_finish_shutdown();
    maybe_idle();
  }

  // Keeps the in-memory conversation equal to what was just committed.
  void remember(const SessionMutation& mutation, const std::vector<int64_t>& positions) {
    for (size_t i = 0; i < mutation.append.size() && i < positions.size(); ++i) {
      history_.push_back(mutation.append[i]);
      history_.back().position = positions[i];
    }
    for (const auto& patch : mutation.entry_patches) {
      auto it = std::lower_bound(
          history_.begin(), history_.end(), patch.position,
          [](const persistence::HistoryEntry& e, int64_t position) { return e.position < position; });
      if (it != history_.end() && it->position == patch.position) it->status = patch.status;
    }
  }

  void notify_settled(const SubmissionRecord& record) {
    const double seconds = static_cast<double>(now_ms() - record.accepted_at_ms) / 1e3;
    context_->metrics->settled(persistence::to_string(record.state), seconds);
    context_->metrics->queue_depth_add(-1);
    auto it = waiters_.find(record.id);
    if (it == waiters_.end()) return;
    if (record.started_at_ms > 0) emit(record, "operation", operation_outcome(record));
    for (const auto& observer : it->second) observer->on_settled(record);
    waiters_.erase(it);
  }

  // --- turns ---------------------------------------------------------------------------
  // Whether anyone streams this submission's events: costly event fields are
  // built only then.
  bool streamed(const SubmissionRecord& record) const {
    auto it = waiters_.find(record.id);
    if (it == waiters_.end()) return false;
    for (const auto& observer : it->second) {
      if (observer->wants_events()) return true;
    }
    return false;
  }

  void emit(const SubmissionRecord& record, const char* type, nlohmann::json fields) {
    auto it = waiters_.find(record.id);
    if (it == waiters_.end()) return;
    nlohmann::json event;
    for (const auto& observer : it->second) {
      if (!observer->wants_events()) continue;
      if (event.is_null()) event = agent_event(type, record, std::move(fields));
      observer->on_event(event);
    }
  }

  void start_turn(bool is_retry) {
    Running& run = *running_;
    const SubmissionRecord& record = run.item.record;
    if (agent_ == nullptr) {  // the definition was removed while work was queued for it
      Transition t;
      add_settlement(t, settle_failed(record,
                                      failed_error(record.id, "agent_not_found",
                                                   "The agent is no longer defined.", false),
                                      now_ms()));
      running_.reset();
      commit(std::move(t));
      return;
    }
    run.turn = ++turn_counter_;
    run.turn_id = new_id("turn_");
    run.turn_started_ns = steady_now_ns();
    if (!is_retry) {
      emit(record, "operation_start", {{"operationKind", "prompt"}});
      emit(record, "agent_start", nlohmann::json::object());
    }
    emit(record, "turn_start",
         {{"turnId", run.turn_id}, {"purpose", "agent"}, {"attempt", record.attempts}});
    emit(record, "message_start",
         {{"turnId", run.turn_id},
          {"role", "assistant"},
          {"message", {{"role", "assistant"}, {"content", nlohmann::json::array()}}}});

    if (!tools_ && agent_->make_tools) tools_ = agent_->make_tools(key_);
    run.tools = tools_;
    harness::TurnRequest request;
    request.instructions = agent_->definition.instructions;
    if (run.tools) request.tools = run.tools->specs();
    request.conversation = model_conversation(history_, history_.size());
    auto relay = make_relay(run);
    run.handle = agent_->model->start_turn(std::move(request), std::move(relay));

    arm_timeout(run.turn);
  }

  // Checks the wall-clock limit in short steps rather than with one timer for
  // the whole limit: a pending delayed message keeps its actor in memory, and
  // a session that has finished and passivated should not stay resident for
  // the rest of a ten-minute timeout.
  void arm_timeout(uint64_t token) {
    static constexpr int64_t kStepMs = 1000;
    const int64_t elapsed = now_ms() - running_->item.record.started_at_ms;
    const int64_t remaining =
        std::max<int64_t>(0, limits_.submission_timeout_ms - elapsed);
    continue_after(this, std::chrono::milliseconds(std::min(remaining, kStepMs)),
                   [this, token, last_step = remaining <= kStepMs] {
                     if (!current_turn(token)) return;
                     if (last_step) {
                       on_timeout();
                     } else {
                       arm_timeout(token);
                     }
                   });
  }

  void retry_turn(uint64_t token) {
    if (!running_ || running_->turn != token) return;
    if (running_->abort_requested || phase_ != Phase::ready) {
      Transition t;
      if (running_->abort_requested) {
        add_settlement(t, settle_aborted(running_->item.record, now_ms()));
        running_.reset();
        commit(std::move(t));
      } else {
        release_running();
      }
      return;
    }
    SubmissionRecord& record = running_->item.record;
    record.attempts += 1;
    Transition t;
    SubmissionPatch patch;
    patch.id = record.id;
    patch.attempts = record.attempts;
    t.mutation.patches.push_back(std::move(patch));
    t.restarts_turn = true;
    running_->started = false;
    commit(std::move(t));
  }

  void on_timeout() {
    const SubmissionRecord record = running_->item.record;
    running_->handle->cancel();
    Transition t;
    t.mutation.append.push_back(
        interruption_entry(record, "Stopped: the submission exceeded its time limit.", now_ms()));
    add_settlement(t, settle_failed(record,
                                    failed_error(record.id, kReasonExceededTimeout,
                                                 "The submission exceeded its time limit.", false),
                                    now_ms()));
    running_.reset();
    commit(std::move(t));
  }

  // --- abort ---------------------------------------------------------------------------
  void on_abort(const AbortPtr& command) {
    if (bounce_ && phase_ == Phase::stopping) {
      send(router_, reroute_atom::value, command);
      return;
    }
    if (failed_) {
      command->observer->on_failed(unavailable("The session is unavailable; retry the abort."));
      return;
    }
    if (phase_ == Phase::claiming) {
      deferred_.push_back([this, command] { on_abort(command); });
      return;
    }
    Transition t;
    const std::vector<std::string> ids = abort_unsettled(command->submission_id, t);
    auto observer = command->observer;
    t.after_commit = [observer, ids](const StorageError* error) {
      if (error) {
        observer->on_failed(unavailable("Storage is unavailable; nothing was aborted."));
      } else {
        observer->on_aborted(ids);
      }
    };
    commit(std::move(t));
  }

  // Adds to `t` the abort of the named unsettled submission, or of all of them:
  // queued ones settle at once, as does a running one whose start is committed
  // (its turn is cancelled); one whose start is still being committed gets a
  // durable intent and settles once started. Returns the ids it aborts.
  std::vector<std::string> abort_unsettled(const std::optional<std::string>& submission_id,
                                           Transition& t) {
    std::vector<std::string> ids;
    const auto wanted = [&](const SubmissionRecord& record) {
      return !submission_id || *submission_id == record.id;
    };
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (wanted(it->record)) {
        ids.push_back(it->record.id);
        add_settlement(t, settle_aborted(it->record, now_ms()));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    if (running_ && wanted(running_->item.record)) {
      const SubmissionRecord& record = running_->item.record;
      ids.push_back(record.id);
      if (!running_->started) {
        // Its start is being committed: record the intent now, settle once started.
        running_->abort_requested = true;
        SubmissionPatch intent;
        intent.id = record.id;
        intent.abort_requested = true;
        t.mutation.patches.push_back(std::move(intent));
      } else {
        if (running_->handle) running_->handle->cancel();
        add_settlement(t, settle_aborted(record, now_ms()));
        running_.reset();
      }
    }
    return ids;
  }

  // --- delete --------------------------------------------------------------------------
  // Aborts everything unsettled, waits until nothing runs and every write is
  // committed, then deletes what was admitted before the command arrived.
  // Inputs admitted meanwhile stay queued (nothing starts while a delete
  // waits) and run afterwards over the emptied conversation.
  void on_delete(const DeletePtr& command) {
    if (bounce_ && phase_ == Phase::stopping) {
      send(router_, reroute_atom::value, command);
      return;
    }
    if (failed_) {
      command->observer->on_failed(unavailable("The session is unavailable; retry the delete."));
      return;
    }
    if (phase_ == Phase::claiming) {
      deferred_.push_back([this, command] { on_delete(command); });
      return;
    }
    if (phase_ == Phase::stopping) {
      command->observer->on_failed(stopping_error());
      return;
    }
    deletes_.push_back({command, last_sequence_});
    Transition t;
    abort_unsettled(std::nullopt, t);
    commit(std::move(t));
    maybe_delete();
  }

  void maybe_delete() {
    if (deletes_.empty() || !deleting_.empty() || running_ || inflight_ > 0 || releasing_ ||
        failed_) {
      return;
    }
    // Every waiting delete goes at once: the last one reaches furthest.
    const int64_t through = deletes_.back().through;
    deleting_ = std::move(deletes_);
    deletes_.clear();
    auto self = handle();
    context_->storage->submit<bool>(
        [key = key_, fence = fence_, through](Transaction& txn) {
          txn.delete_session_data(key, fence, through);
          return true;
        },
        [self, this, through](StorageResult<bool> result) {
          continue_in(self, [this, through, result = std::move(result)] {
            on_deleted(through, result);
          });
        });
  }

  void on_deleted(int64_t through, const StorageResult<bool>& result) {
    if (deleting_.empty()) return;  // answered already: the actor is leaving
    auto done = std::move(deleting_);
    deleting_.clear();
    if (auto* error = std::get_if<StorageError>(&result)) {
      spdlog::error("session {}: delete failed: {}", key_.str(), error->message);
      for (const auto& pending : done) {
        pending.command->observer->on_failed(
            unavailable("Storage is unavailable; nothing was deleted."));
      }
      if (error->kind == StorageError::Kind::fenced) {
        lost_ownership();
        return;
      }
    } else {
      std::erase_if(history_, [through](const persistence::HistoryEntry& entry) {
        return entry.sequence <= through;
      });
      spdlog::info("session {}: deleted its data through sequence {}", key_.str(), through);
      for (const auto& pending : done) pending.command->observer->on_deleted();
    }
    maybe_delete();
    commit({});
    maybe_finish_shutdown();
    maybe_idle();
  }

  void fail_deletes(const PublicError& error) {
    for (auto* list : {&deletes_, &deleting_}) {
      for (const auto& pending : *list) pending.command->observer->on_failed(error);
      list->clear();
    }
  }

  // --- leaving memory ----------------------------------------------------------------
  bool idle() const {
    return phase_ == Phase::ready && !running_ && queue_.empty() && pending_admits_ == 0 &&
           inflight_ == 0 && waiters_.empty() && deletes_.empty() && deleting_.empty();
  }

  void maybe_idle() {
    if (!idle() || passivating_) return;
    const uint64_t generation = ++idle_generation_;
    continue_after(this, std::chrono::milliseconds(context_->limits.idle_passivate_ms),
                   [this, generation] {
                     if (generation != idle_generation_ || !idle() || passivating_) return;
                     passivating_ = true;
                     request(router_, caf::infinite, passivate_atom::value, key_, received_)
                         .then([this](bool accepted) {
                           passivating_ = false;
                           if (accepted) {
                             quit();
                           } else {
                             maybe_idle();
                           }
                         });
                   });
  }

  void begin_shutdown() {
    if (phase_ == Phase::stopping) return;
    const bool claiming = phase_ == Phase::claiming;
    phase_ = Phase::stopping;
    if (claiming) return;  // on_claimed finishes the shutdown
    if (running_ && running_->started && running_->handle) {
      const uint64_t token = running_->turn;
      continue_after(this, std::chrono::milliseconds(context_->limits.shutdown_grace_ms),
                     [this, token] {
                       if (current_turn(token)) {
                         running_->handle->cancel();
                         release_running();
                       }
                     });
    }
    maybe_finish_shutdown();
  }

  // Hands the running submission back at its last committed turn boundary: the
  // next owner continues the same attempt from the committed history.
  void release_running() {
    SubmissionRecord record = running_->item.record;
    running_.reset();
    Transition t;
    SubmissionPatch patch;
    patch.id = record.id;
    patch.released = true;
    t.mutation.patches.push_back(std::move(patch));
    record.released = true;
    queue_.push_front({std::move(record), false});
    commit(std::move(t));
  }

  void maybe_finish_shutdown() {
    if (phase_ != Phase::stopping || releasing_ || running_ || inflight_ > 0 ||
        pending_admits_ > 0 || !deletes_.empty() || !deleting_.empty()) {
      return;
    }
    releasing_ = true;
    auto self = handle();
    context_->storage->submit<bool>(
        [key = key_, fence = fence_](Transaction& txn) {
          txn.release_session(key, fence);
          return true;
        },
        [self, this](StorageResult<bool>) {
          continue_in(self, [this] {
            if (handing_off_) {
              spdlog::debug("session {}: handed over", key_.str());
              leave();
            } else {
              fail_everything(unavailable("This node shut down before the submission settled."),
                              Exit::normal);
            }
          });
        });
  }

  void lost_ownership() {
    spdlog::warn("session {}: ownership lost (fence {}); leaving", key_.str(), fence_.epoch);
    if (running_ && running_->handle) running_->handle->cancel();
    running_.reset();
    bounce_ = true;
    leave();
  }

  PublicError stopping_error() const {
    if (!held_elsewhere_.empty()) {
      return make_error("unavailable", "Another node still holds this session.",
                        "Retry the request; ownership settles within a few seconds.",
                        {{"reason", "session_held_elsewhere"}, {"holder", held_elsewhere_}});
    }
    return unavailable("This node is shutting down; retry the request.");
  }

  // Leaves without losing anything: clients waiting for an outcome get it from
  // storage once the next owner settles it, and commands still arriving go
  // back to the router (or are refused) until the router agrees that this
  // actor has seen every command it was sent.
  void leave() {
    phase_ = Phase::stopping;
    fail_deletes(unavailable("The session moved to another owner; retry the delete."));
    const int64_t deadline = now_ms() + limits_.submission_timeout_ms;
    for (auto& [id, observers] : waiters_) {
      persistence::SubmissionRecord record;
      record.id = id;
      record.key = key_;
      for (auto& observer : observers) {
        watch_outcome(system(), context_->storage, record, observer, deadline);
      }
    }
    waiters_.clear();
    auto deferred = std::move(deferred_);
    deferred_.clear();
    for (auto& work : deferred) work();
    request(router_, caf::infinite, passivate_atom::value, key_, received_)
        .then([this](bool accepted) {
          if (accepted) {
            quit();
          } else {
            continue_after(this, std::chrono::milliseconds(20), [this] { leave(); });
          }
        });
  }

  // Ends this actor: every observer still waiting hears that the outcome will
  // come from elsewhere (the submission stays admitted in storage).
  // failed: storage broke; the router restarts the session shortly, since its
  // unsettled work is still owned by this node. normal: shutdown or lost
  // ownership, where a restart here would be wrong.
  enum class Exit { normal, failed };
  void fail_everything(const PublicError& error, Exit exit) {
    for (auto& [id, observers] : waiters_) {
      PublicError specific = error;
      specific.meta = {{"submissionId", id}, {"reason", "owner_unavailable"}};
      for (const auto& observer : observers) observer->on_rejected(specific);
    }
    waiters_.clear();
    failed_ = true;
    fail_deletes(unavailable("The session is unavailable; retry the delete."));
    auto deferred = std::move(deferred_);
    deferred_.clear();
    phase_ = Phase::stopping;
    for (auto& work : deferred) work();  // each is rejected now that we are stopping
    if (running_ && running_->handle) running_->handle->cancel();
    if (exit == Exit::failed) {
      quit(caf::exit_reason::user_shutdown);
    } else {
      quit();
    }
  }

  SessionKey key_;
  SessionContextPtr context_;
  std::shared_ptr<const AgentRuntime> agent_;
  SessionLimits limits_;  // the agent's, or the node's when the agent is gone
  caf::actor router_;
  Phase phase_ = Phase::claiming;
  persistence::Fence fence_;
  std::deque<QueuedSubmission> queue_;
  std::vector<persistence::HistoryEntry> history_;  // the session's conversation, in position order
  std::shared_ptr<harness::ToolBox> tools_;          // built at the first turn that needs them
  std::optional<Running> running_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<SubmissionObserver>>> waiters_;
  std::vector<std::function<void()>> deferred_;
  struct PendingDelete {
    DeletePtr command;
    int64_t through = 0;  // the highest sequence admitted when it arrived
  };
  std::vector<PendingDelete> deletes_;   // waiting for nothing to run
  std::vector<PendingDelete> deleting_;  // its storage job is running
  int64_t last_sequence_ = 0;            // the highest sequence admitted so far
  size_t pending_admits_ = 0;
  int inflight_ = 0;
  uint64_t turn_counter_ = 0;
  uint64_t received_ = 0;
  uint64_t idle_generation_ = 0;
  bool passivating_ = false;
  bool releasing_ = false;
  bool failed_ = false;
  bool bounce_ = false;       // stopping commands go back to the router
  bool handing_off_ = false;  // stopping because another node owns the session now
  std::string held_elsewhere_;
  int64_t claim_started_ms_ = 0;
  int64_t claim_retry_ms_ = 0;
};

void TurnRelay::on_text_delta(std::string_view delta) {
  if (!streaming_->load(std::memory_order_relaxed)) return;
  continue_in(self_, [actor = actor_, turn = turn_, text = std::string(delta)] {
    actor->on_delta(turn, text);
  });
}

void TurnRelay::on_finished(harness::TurnResult result) {
  continue_in(self_, [actor = actor_, turn = turn_, result = std::move(result)] {
    actor->on_turn_finished(turn, result);
  });
}

void TurnRelay::on_failed(PublicError error, bool transient) {
  continue_in(self_, [actor = actor_, turn = turn_, error = std::move(error), transient] {
    actor->on_turn_failed(turn, error, transient);
  });
}

}  // namespace

caf::actor spawn_session_actor(caf::event_based_actor* router, SessionKey key,
                               SessionContextPtr context) {
  return router->spawn<SessionActor>(std::move(key), std::move(context),
                                     caf::actor_cast<caf::actor>(router));
}

}  // namespace sluice::actors
