#include "persistence/postgres_batch_transaction.hpp"

#include <algorithm>
#include <type_traits>

#include <pqxx/prepared_statement>

#include "persistence/executor.hpp"
#include "persistence/postgres_arrays.hpp"
#include "persistence/postgres_statements.hpp"

namespace sluice::persistence::postgres {
namespace {

namespace st = statements;

}  // namespace

BatchTransaction::BatchTransaction(pqxx::connection& connection, std::string& scratch,
                                   BatchMemory& memory)
    : direct_(connection, scratch), scratch_(scratch), memory_(memory) {}

// --- giving up -----------------------------------------------------------------------

void BatchTransaction::check_usable() const {
  if (gave_up_) throw RetryBatch(*gave_up_);
}

void BatchTransaction::give_up(const std::string& reason) {
  gave_up_ = "postgres batch runs again statement by statement: " + reason;
  memory_.run_next_directly = true;
  throw RetryBatch(*gave_up_);
}

template <class Work>
auto BatchTransaction::on_server(Work&& work) {
  try {
    return work();
  } catch (const RetryBatch&) {
    throw;
  } catch (const StorageFailure& e) {
    // A server error leaves the transaction aborted, and this one has no
    // savepoint to go back to; in the statement-by-statement run it stays with
    // its job.
    give_up(e.what());
  }
}

template <class Work>
auto BatchTransaction::direct(Work&& work, bool writes) {
  check_usable();
  flush();
  // Counted only once it succeeded: a fenced write wrote nothing, and any
  // other failure gives up anyway.
  const auto reached_server = [&] {
    if (writes && in_job_) job_reached_server_ = true;
  };
  if constexpr (std::is_void_v<decltype(work())>) {
    on_server(work);
    reached_server();
  } else {
    auto result = on_server(work);
    reached_server();
    return result;
  }
}

// --- savepoints and commit -------------------------------------------------------------

void BatchTransaction::savepoint() {
  check_usable();
  in_job_ = true;
  job_reached_server_ = false;
  job_mark_ = pending_.mark();
  job_undo_.clear();
}

void BatchTransaction::release_savepoint() {
  check_usable();
  in_job_ = false;
  job_undo_.clear();
}

void BatchTransaction::rollback_to_savepoint() {
  check_usable();
  in_job_ = false;
  if (job_reached_server_) give_up("a failed job's writes had already been sent");
  pending_.truncate(job_mark_);
  for (auto undo = job_undo_.rbegin(); undo != job_undo_.rend(); ++undo) {
    if (undo->second) {
      sessions_[undo->first] = std::move(*undo->second);
    } else {
      sessions_.erase(undo->first);
    }
  }
  job_undo_.clear();
}

void BatchTransaction::commit() {
  check_usable();
  flush();
  try {
    direct_.commit();
  } catch (...) {
    memory_.sessions.clear();  // whether it committed may be unknown
    throw;
  }
  for (const auto& [session_key, session] : sessions_) {
    if (session.state.owner.empty()) {
      memory_.sessions.erase(session_key);
    } else {
      memory_.sessions.store(session_key, session.state);
    }
  }
}

void BatchTransaction::flush() {
  std::vector<std::string> written;
  for (const auto& [session_key, session] : sessions_) {
    if (session.written) written.push_back(session_key);
  }
  if (written.empty() && pending_.empty()) return;
  if (in_job_ && (!job_undo_.empty() || !(pending_.mark() == job_mark_))) {
    job_reached_server_ = true;
  }
  // In key order, so that two connections flushing the same sessions (only
  // while ownership changes hands) usually lock them in the same order; the
  // plan decides in the end, and a deadlock the server breaks is a server
  // error, after which the batch runs again.
  std::sort(written.begin(), written.end());
  ArrayLiteral columns[7];
  for (const std::string& session_key : written) {
    const SessionView& session = sessions_.at(session_key);
    columns[0].text(session_key);
    columns[1].text(session.state.owner);
    columns[2].number(session.state.epoch);
    columns[3].number(session.stored_sequence);
    columns[4].number(session.stored_position);
    columns[5].number(session.state.next_sequence);
    columns[6].number(session.state.next_position);
  }
  std::vector<std::string> parameters;
  for (const ArrayLiteral& column : columns) parameters.push_back(column.finish());
  PendingWrites::Encoded rows = pending_.encode(scratch_);
  parameters.insert(parameters.end(), std::make_move_iterator(rows.arrays.begin()),
                    std::make_move_iterator(rows.arrays.end()));

  const pqxx::result counts = on_server(
      [&] { return direct_.run(st::kFlushBatch, pqxx::prepare::make_dynamic_params(parameters)); });
  if (counts[0][0].as<int64_t>() != static_cast<int64_t>(written.size())) {
    give_up("a session it wrote had changed (claimed or written through another connection)");
  }
  if (counts[0][1].as<int64_t>() != rows.entry_patches ||
      counts[0][2].as<int64_t>() != rows.submission_patches) {
    give_up("a patch matched no row");
  }
  for (const std::string& session_key : written) {
    SessionView& session = sessions_.at(session_key);
    session.stored_sequence = session.state.next_sequence;
    session.stored_position = session.state.next_position;
    session.locked = true;  // the flush's UPDATE holds the row until commit
    session.written = false;
  }
  pending_.clear();
  job_mark_ = pending_.mark();
  job_undo_.clear();
}

// --- sessions ---------------------------------------------------------------------------

BatchTransaction::SessionView* BatchTransaction::view(const std::string& session_key) {
  if (const auto found = sessions_.find(session_key); found != sessions_.end()) {
    return &found->second;
  }
  const std::optional<SessionState> cached = memory_.sessions.find(session_key);
  if (!cached) return nullptr;
  // Not remembered for undoing: a copy of the cache is as good as no view.
  SessionView& loaded = sessions_[session_key];
  loaded.state = *cached;
  loaded.stored_sequence = cached->next_sequence;
  loaded.stored_position = cached->next_position;
  return &loaded;
}

BatchTransaction::SessionView& BatchTransaction::set_view(const std::string& session_key,
                                                          const SessionState& state) {
  remember(session_key);
  SessionView& session = sessions_[session_key];
  session.state = state;
  session.stored_sequence = state.next_sequence;
  session.stored_position = state.next_position;
  session.locked = true;
  session.written = false;
  return session;
}

void BatchTransaction::remember(const std::string& session_key) {
  if (!in_job_) return;
  const auto found = sessions_.find(session_key);
  job_undo_.emplace_back(session_key, found == sessions_.end()
                                          ? std::nullopt
                                          : std::optional<SessionView>(found->second));
}

BatchTransaction::SessionView& BatchTransaction::fenced_view(const std::string& session_key,
                                                             const Fence& fence) {
  SessionView* known = view(session_key);
  if (known && known->state.owner == fence.owner && known->state.epoch == fence.epoch) {
    remember(session_key);
    known->written = true;
    return *known;
  }
  if (known && known->locked) throw_fenced(session_key, fence);
  // Unknown, or known only from the cache and under another fence: the row
  // decides, and stays locked until commit.
  const pqxx::result row = on_server(
      [&] { return direct_.run(st::kCheckFence, session_key, fence.owner, fence.epoch); });
  if (row.empty()) throw_fenced(session_key, fence);
  if (known && known->written) {
    give_up("session " + session_key + " had changed hands before this batch wrote to it");
  }
  SessionView& session = set_view(
      session_key,
      SessionState{fence.owner, fence.epoch, row[0][0].as<int64_t>(), row[0][1].as<int64_t>()});
  session.written = true;
  return session;
}

ClaimResult BatchTransaction::claim_session(const SessionKey& key, const NodeIdentity& me) {
  ClaimResult claimed = direct([&] { return direct_.claim_session(key, me); }, true);
  const std::string session_key = key.str();
  if (!claimed.granted) {
    // Another node holds it: whatever this connection knew of it is stale.
    remember(session_key);
    sessions_.erase(session_key);
    memory_.sessions.erase(session_key);
    return claimed;
  }
  set_view(session_key, SessionState{me.node_id, claimed.epoch, claimed.next_sequence,
                                     claimed.history_length + 1});
  return claimed;
}

void BatchTransaction::release_session(const SessionKey& key, const Fence& fence) {
  direct([&] { direct_.release_session(key, fence); }, true);
  // Counters unknown perhaps, but no fence matches an empty owner, and the
  // commit drops the session from the cache.
  const std::string session_key = key.str();
  const SessionView* known = view(session_key);
  set_view(session_key, SessionState{"", fence.epoch, known ? known->state.next_sequence : 1,
                                     known ? known->state.next_position : 1});
}

// --- fenced writes ----------------------------------------------------------------------

std::optional<AdmitResult> BatchTransaction::admitted_before(const SessionKey& key,
                                                             const IdempotencyClaim& claim) {
  std::string body_hash;
  std::string original_id;
  if (const PendingKey* pending = pending_.find_key(key.agent, key.instance, claim.key)) {
    body_hash = pending->body_hash;
    original_id = pending->submission_id;
  } else {
    const pqxx::result found = on_server(
        [&] { return direct_.run(st::kFindIdempotencyKey, key.agent, key.instance, claim.key); });
    if (found.empty()) return std::nullopt;
    body_hash = found[0][0].as<std::string>();
    original_id = found[0][1].as<std::string>();
  }
  if (body_hash != claim.body_hash) return AdmitResult{AdmitStatus::idempotency_conflict, {}};
  flush();  // the original, or a patch of it, may still be queued
  std::optional<SubmissionRecord> original =
      on_server([&] { return direct_.find_submission(original_id); });
  if (!original) {
    throw StorageFailure("idempotency key " + claim.key + " names submission " + original_id +
                         ", which does not exist");
  }
  return AdmitResult{AdmitStatus::replayed, std::move(*original)};
}

AdmitResult BatchTransaction::admit(const SessionKey& key, const Fence& fence,
                                    const NewSubmission& submission) {
  check_usable();
  const std::string session_key = key.str();
  // Checked before the lookup so a stale owner learns nothing, and before the
  // sequence is taken so a replay does not consume one.
  fenced_view(session_key, fence);
  if (submission.idempotency) {
    if (std::optional<AdmitResult> earlier = admitted_before(key, *submission.idempotency)) {
      return std::move(*earlier);
    }
  }
  SessionView& session = sessions_.at(session_key);
  session.written = true;
  AdmitResult result;
  SubmissionRecord& record = result.record;
  record.id = submission.id;
  record.dispatch_id = submission.dispatch_id;
  record.key = key;
  record.kind = submission.kind;
  record.sequence = session.state.next_sequence++;
  record.input_text = submission.input_text;
  record.accepted_at_ms = submission.accepted_at_ms;
  pending_.add_submission(session_key, record);
  if (submission.idempotency) {
    pending_.add_key({key.agent, key.instance, submission.idempotency->key,
                      submission.idempotency->body_hash, record.id, submission.accepted_at_ms});
  }
  return result;
}

std::vector<int64_t> BatchTransaction::mutate(const SessionKey& key, const Fence& fence,
                                              const SessionMutation& mutation) {
  check_usable();
  const std::string session_key = key.str();
  SessionView& session = fenced_view(session_key, fence);
  std::vector<int64_t> positions;
  positions.reserve(mutation.append.size());
  for (const HistoryEntry& entry : mutation.append) {
    positions.push_back(session.state.next_position++);
    pending_.add_entry(session_key, positions.back(), entry);
  }
  for (const EntryPatch& patch : mutation.entry_patches) {
    pending_.add_entry_patch(session_key, patch);
  }
  for (const SubmissionPatch& patch : mutation.patches) {
    pending_.add_submission_patch(session_key, patch);
  }
  return positions;
}

// --- everything else, statement by statement ------------------------------------------

std::optional<SubmissionRecord> BatchTransaction::get_submission(const std::string& agent,
                                                                 const std::string& instance,
                                                                 const std::string& submission_id) {
  return direct([&] { return direct_.get_submission(agent, instance, submission_id); }, false);
}

std::vector<SubmissionRecord> BatchTransaction::list_submissions(
    const SessionKey& key, std::optional<SubmissionState> state, const Page& page) {
  return direct([&] { return direct_.list_submissions(key, state, page); }, false);
}

std::vector<HistoryEntry> BatchTransaction::read_history(const SessionKey& key, const Page& page) {
  return direct([&] { return direct_.read_history(key, page); }, false);
}

void BatchTransaction::register_node(const NodeIdentity& me, int64_t lease_ms) {
  direct([&] { direct_.register_node(me, lease_ms); }, true);
}

bool BatchTransaction::renew_lease(const NodeIdentity& me, int64_t lease_ms) {
  return direct([&] { return direct_.renew_lease(me, lease_ms); }, true);
}

void BatchTransaction::deregister_node(const NodeIdentity& me) {
  direct([&] { direct_.deregister_node(me); }, true);
}

std::vector<SessionKey> BatchTransaction::orphaned_sessions(const NodeIdentity& me, int limit) {
  return direct([&] { return direct_.orphaned_sessions(me, limit); }, false);
}

std::vector<NodeRecord> BatchTransaction::list_nodes() {
  return direct([&] { return direct_.list_nodes(); }, false);
}

std::vector<NodeWorkload> BatchTransaction::node_workloads() {
  return direct([&] { return direct_.node_workloads(); }, false);
}

std::vector<InstanceSession> BatchTransaction::instance_sessions(const std::string& agent,
                                                                 const std::string& instance) {
  return direct([&] { return direct_.instance_sessions(agent, instance); }, false);
}

// Runs, deletion and retention touch no row this transaction queues or caches
// (delete_session_data only checks the session row's fence, and keeps its
// counters), so they flush what is queued, keeping the order of the jobs, and
// run directly; the fenced ones check on the server, under the row lock.

void BatchTransaction::create_run(const RunRecord& run) {
  direct([&] { direct_.create_run(run); }, true);
}

std::vector<int64_t> BatchTransaction::append_run_events(const std::string& run_id,
                                                         const std::string& owner_incarnation,
                                                         const std::vector<NewRunEvent>& events,
                                                         const std::optional<RunEnding>& ending) {
  return direct(
      [&] { return direct_.append_run_events(run_id, owner_incarnation, events, ending); }, true);
}

std::optional<RunRecord> BatchTransaction::get_run(const std::string& run_id) {
  return direct([&] { return direct_.get_run(run_id); }, false);
}

std::vector<StoredRunEvent> BatchTransaction::read_run_events(
    const std::string& run_id, int64_t after, int limit, const std::vector<std::string>& types) {
  return direct([&] { return direct_.read_run_events(run_id, after, limit, types); }, false);
}

std::vector<RunRecord> BatchTransaction::list_runs(const RunFilter& filter) {
  return direct([&] { return direct_.list_runs(filter); }, false);
}

std::vector<RunRecord> BatchTransaction::interrupted_runs(const NodeIdentity& me, int limit) {
  return direct([&] { return direct_.interrupted_runs(me, limit); }, false);
}

void BatchTransaction::delete_session_data(const SessionKey& key, const Fence& fence,
                                           int64_t through_sequence) {
  direct([&] { direct_.delete_session_data(key, fence, through_sequence); }, true);
}

PurgeCounts BatchTransaction::purge_settled_before(int64_t cutoff_ms) {
  return direct([&] { return direct_.purge_settled_before(cutoff_ms); }, true);
}

}  // namespace sluice::persistence::postgres
