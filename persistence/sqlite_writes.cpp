// Ownership and the fenced writes of SqliteTransaction.
#include <algorithm>

#include "core/clock.hpp"
#include "persistence/cluster_sql.hpp"
#include "persistence/payload_codec.hpp"
#include "persistence/sqlite_rows.hpp"
#include "persistence/sqlite_transaction.hpp"

namespace sluice::persistence::sqlite {
namespace {

// One statement both checks the fence and takes the counter values, so the common
// admission costs a single update of the session row.
constexpr const char* kAllocateSequence =
    "UPDATE sessions SET next_sequence = next_sequence + ?4 "
    "WHERE session_key = ?1 AND owner_node = ?2 AND epoch = ?3 RETURNING next_sequence - ?4";
constexpr const char* kAllocatePosition =
    "UPDATE sessions SET next_position = next_position + ?4 "
    "WHERE session_key = ?1 AND owner_node = ?2 AND epoch = ?3 RETURNING next_position - ?4";

[[noreturn]] void throw_fenced(const std::string& session_key, const Fence& fence) {
  throw FencedError("session " + session_key + " is not owned by " + fence.owner + " at epoch " +
                    std::to_string(fence.epoch));
}

template <class T>
void bind_optional(Statement& statement, int index, const std::optional<T>& value) {
  if (value) {
    statement.bind(index, static_cast<int64_t>(*value));
  } else {
    statement.bind_null(index);
  }
}

}  // namespace

void SqliteTransaction::check_fence(const std::string& session_key, const Fence& fence) {
  Statement statement = db_.prepare(
      "SELECT 1 FROM sessions WHERE session_key = ?1 AND owner_node = ?2 AND epoch = ?3");
  statement.bind(1, session_key).bind(2, fence.owner).bind(3, fence.epoch);
  if (!statement.step()) throw_fenced(session_key, fence);
}

int64_t SqliteTransaction::allocate(const std::string& session_key, const Fence& fence,
                                    const char* sql, int64_t count) {
  Statement statement = db_.prepare(sql);
  statement.bind(1, session_key).bind(2, fence.owner).bind(3, fence.epoch).bind(4, count);
  if (!statement.step()) throw_fenced(session_key, fence);
  return statement.int64(0);
}

ClaimResult SqliteTransaction::claim_session(const SessionKey& key, const NodeIdentity& me) {
  const std::string session_key = key.str();
  const int64_t now = now_ms();
  ClaimResult result;
  {
    Statement statement = db_.prepare(
        "INSERT INTO sessions (session_key, agent, instance, session, owner_node, "
        "owner_incarnation, epoch, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7) "
        "ON CONFLICT (session_key) DO UPDATE SET owner_node = excluded.owner_node, "
        "owner_incarnation = excluded.owner_incarnation, epoch = epoch + 1 "
        "WHERE " SLUICE_SQL_CLAIMABLE_BY("?5", "?7") " "
        "RETURNING epoch, next_sequence, next_position");
    statement.bind(1, session_key).bind(2, key.agent).bind(3, key.instance).bind(4, key.session);
    statement.bind(5, me.node_id).bind(6, me.incarnation).bind(7, now);
    if (!statement.step()) {
      Statement holder = db_.prepare("SELECT owner_node FROM sessions WHERE session_key = ?1");
      holder.bind(1, session_key);
      if (!holder.step()) throw StorageFailure("claiming session " + session_key + " found no row");
      result.granted = false;
      result.holder = holder.text(0);
      return result;
    }
    result.epoch = statement.int64(0);
    result.next_sequence = statement.int64(1);
    result.history_length = statement.int64(2) - 1;
  }
  {
    Statement statement = db_.prepare(queries::kUnsettledSubmissions);
    statement.bind(1, session_key);
    while (statement.step()) result.unsettled.push_back(read_submission(statement));
  }
  for (const SubmissionRecord& submission : result.unsettled) {
    if (submission.state != SubmissionState::running) continue;
    Statement statement = db_.prepare(queries::kEntriesOfSubmission);
    statement.bind(1, submission.id);
    while (statement.step()) result.running_entries.push_back(read_entry(statement));
  }
  // Entries of several running submissions were read one submission at a time.
  std::sort(result.running_entries.begin(), result.running_entries.end(),
            [](const HistoryEntry& a, const HistoryEntry& b) { return a.position < b.position; });
  return result;
}

void SqliteTransaction::release_session(const SessionKey& key, const Fence& fence) {
  const std::string session_key = key.str();
  Statement statement = db_.prepare(
      "UPDATE sessions SET owner_node = NULL, owner_incarnation = NULL "
      "WHERE session_key = ?1 AND owner_node = ?2 AND epoch = ?3");
  statement.bind(1, session_key).bind(2, fence.owner).bind(3, fence.epoch).run();
  if (statement.changes() == 0) throw_fenced(session_key, fence);
}

AdmitResult SqliteTransaction::admit(const SessionKey& key, const Fence& fence,
                                     const NewSubmission& submission) {
  const std::string session_key = key.str();
  if (submission.idempotency) {
    // Checked before the lookup so a stale owner learns nothing, and before the
    // sequence is taken so a replay does not consume one.
    check_fence(session_key, fence);
    std::string body_hash;
    std::string original_id;
    {
      Statement statement = db_.prepare(
          "SELECT body_hash, submission_id FROM idempotency_keys "
          "WHERE agent = ?1 AND instance = ?2 AND key = ?3");
      statement.bind(1, key.agent).bind(2, key.instance).bind(3, submission.idempotency->key);
      if (statement.step()) {
        body_hash = statement.text(0);
        original_id = statement.text(1);
      }
    }
    if (!original_id.empty()) {
      if (body_hash != submission.idempotency->body_hash) {
        return {AdmitStatus::idempotency_conflict, {}};
      }
      std::optional<SubmissionRecord> original = find_submission(original_id);
      if (!original) {
        throw StorageFailure("idempotency key " + submission.idempotency->key +
                             " names submission " + original_id + ", which does not exist");
      }
      return {AdmitStatus::replayed, std::move(*original)};
    }
  }

  AdmitResult result;
  SubmissionRecord& record = result.record;
  record.id = submission.id;
  record.dispatch_id = submission.dispatch_id;
  record.key = key;
  record.kind = submission.kind;
  record.sequence = allocate(session_key, fence, kAllocateSequence, 1);
  record.input_text = submission.input_text;
  record.accepted_at_ms = submission.accepted_at_ms;
  insert_submission(session_key, record);
  if (submission.idempotency) {
    Statement statement = db_.prepare(
        "INSERT INTO idempotency_keys (agent, instance, key, body_hash, submission_id, "
        "created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    statement.bind(1, key.agent).bind(2, key.instance).bind(3, submission.idempotency->key);
    statement.bind(4, submission.idempotency->body_hash).bind(5, record.id);
    statement.bind(6, submission.accepted_at_ms).run();
  }
  return result;
}

void SqliteTransaction::insert_submission(const std::string& session_key,
                                          const SubmissionRecord& record) {
  encode_submission_input(record.input_text, scratch_);
  Statement statement = db_.prepare(
      "INSERT INTO submissions (id, session_key, agent, instance, session, sequence, kind, "
      "dispatch_id, state, input, accepted_at_ms) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  statement.bind(1, record.id).bind(2, session_key).bind(3, record.key.agent);
  statement.bind(4, record.key.instance).bind(5, record.key.session).bind(6, record.sequence);
  statement.bind_static(7, to_string(record.kind));
  if (record.dispatch_id.empty()) {
    statement.bind_null(8);
  } else {
    statement.bind(8, record.dispatch_id);
  }
  statement.bind_static(9, to_string(record.state)).bind_blob(10, scratch_);
  statement.bind(11, record.accepted_at_ms).run();
}

std::vector<int64_t> SqliteTransaction::mutate(const SessionKey& key, const Fence& fence,
                                               const SessionMutation& mutation) {
  const std::string session_key = key.str();
  std::vector<int64_t> positions;
  if (mutation.append.empty()) {
    check_fence(session_key, fence);
  } else {
    const auto count = static_cast<int64_t>(mutation.append.size());
    const int64_t first = allocate(session_key, fence, kAllocatePosition, count);
    positions.reserve(mutation.append.size());
    for (int64_t i = 0; i < count; ++i) {
      insert_entry(session_key, mutation.append[static_cast<size_t>(i)], first + i);
      positions.push_back(first + i);
    }
  }
  for (const EntryPatch& patch : mutation.entry_patches) patch_entry(session_key, patch);
  for (const SubmissionPatch& patch : mutation.patches) patch_submission(session_key, patch);
  return positions;
}

void SqliteTransaction::insert_entry(const std::string& session_key, const HistoryEntry& entry,
                                     int64_t position) {
  encode_entry_content(entry, scratch_);
  Statement statement = db_.prepare(
      "INSERT INTO history (session_key, position, sequence, submission_id, type, status, "
      "timestamp_ms, payload) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  statement.bind(1, session_key).bind(2, position).bind(3, entry.sequence);
  statement.bind(4, entry.submission_id).bind(5, entry.type);
  statement.bind_static(6, to_string(entry.status)).bind(7, entry.timestamp_ms);
  statement.bind_blob(8, scratch_).run();
}

void SqliteTransaction::patch_entry(const std::string& session_key, const EntryPatch& patch) {
  Statement statement =
      db_.prepare("UPDATE history SET status = ?3 WHERE session_key = ?1 AND position = ?2");
  statement.bind(1, session_key).bind(2, patch.position).bind_static(3, to_string(patch.status));
  statement.run();
  if (statement.changes() == 0) {
    throw StorageFailure("session " + session_key + " has no history entry at position " +
                         std::to_string(patch.position));
  }
}

void SqliteTransaction::patch_submission(const std::string& session_key,
                                         const SubmissionPatch& patch) {
  // A NULL parameter leaves its column as it is, so one cached statement serves
  // every combination of set fields.
  Statement statement = db_.prepare(
      "UPDATE submissions SET state = COALESCE(?3, state), "
      "input_applied = COALESCE(?4, input_applied), attempts = COALESCE(?5, attempts), "
      "abort_requested = COALESCE(?6, abort_requested), released = COALESCE(?7, released), "
      "started_at_ms = COALESCE(?8, started_at_ms), settled_at_ms = COALESCE(?9, settled_at_ms), "
      "result_json = COALESCE(?10, result_json), error_json = COALESCE(?11, error_json), "
      "last_owner = COALESCE(?12, last_owner), usage_json = COALESCE(?13, usage_json) "
      "WHERE id = ?1 AND session_key = ?2");
  statement.bind(1, patch.id).bind(2, session_key);
  if (patch.state) {
    statement.bind_static(3, to_string(*patch.state));
  } else {
    statement.bind_null(3);
  }
  bind_optional(statement, 4, patch.input_applied);
  bind_optional(statement, 5, patch.attempts);
  bind_optional(statement, 6, patch.abort_requested);
  bind_optional(statement, 7, patch.released);
  bind_optional(statement, 8, patch.started_at_ms);
  bind_optional(statement, 9, patch.settled_at_ms);
  statement.bind(10, patch.result_json).bind(11, patch.error_json).bind(12, patch.last_owner);
  statement.bind(13, patch.usage_json);
  statement.run();
  if (statement.changes() == 0) {
    throw StorageFailure("submission " + patch.id + " does not belong to session " + session_key);
  }
}

}  // namespace sluice::persistence::sqlite
