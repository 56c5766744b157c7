// Ownership and the fenced writes of PostgresTransaction.
#include <algorithm>

#include <pqxx/binarystring>

#include "core/clock.hpp"
#include "persistence/payload_codec.hpp"
#include "persistence/postgres_rows.hpp"
#include "persistence/postgres_statements.hpp"
#include "persistence/postgres_transaction.hpp"

namespace sluice::persistence::postgres {
namespace {

namespace st = statements;

// libpqxx 6 has no parameter traits for std::optional but sends a null
// `const char*` as SQL NULL; the statement casts the text back to its type.
template <class T>
std::optional<std::string> as_text(const std::optional<T>& value) {
  if (!value) return std::nullopt;
  return pqxx::to_string(*value);
}
const char* nullable(const std::optional<std::string>& text) {
  return text ? text->c_str() : nullptr;
}

}  // namespace

void throw_fenced(const std::string& session_key, const Fence& fence) {
  throw FencedError("session " + session_key + " is not owned by " + fence.owner + " at epoch " +
                    std::to_string(fence.epoch));
}

void PostgresTransaction::check_fence(const std::string& session_key, const Fence& fence) {
  if (run(st::kCheckFence, session_key, fence.owner, fence.epoch).empty()) {
    throw_fenced(session_key, fence);
  }
}

int64_t PostgresTransaction::allocate(const std::string& session_key, const Fence& fence,
                                      const char* statement, int64_t count) {
  const pqxx::result rows = run(statement, session_key, fence.owner, fence.epoch, count);
  if (rows.empty()) throw_fenced(session_key, fence);
  return rows[0][0].as<int64_t>();
}

ClaimResult PostgresTransaction::claim_session(const SessionKey& key, const NodeIdentity& me) {
  const std::string session_key = key.str();
  const int64_t now = now_ms();
  ClaimResult result;
  const pqxx::result claimed = run(st::kClaimSession, session_key, key.agent, key.instance,
                                   key.session, me.node_id, me.incarnation, now);
  if (claimed.empty()) {
    const pqxx::result holder = run(st::kSessionHolder, session_key);
    if (holder.empty()) throw StorageFailure("claiming session " + session_key + " found no row");
    result.granted = false;
    result.holder = holder[0][0].is_null() ? "" : holder[0][0].as<std::string>();
    return result;
  }
  result.epoch = claimed[0][0].as<int64_t>();
  result.next_sequence = claimed[0][1].as<int64_t>();
  result.history_length = claimed[0][2].as<int64_t>() - 1;
  for (const auto& row : run(st::kUnsettledSubmissions, session_key)) {
    result.unsettled.push_back(read_submission(row));
  }
  for (const SubmissionRecord& submission : result.unsettled) {
    if (submission.state != SubmissionState::running) continue;
    for (const auto& row : run(st::kEntriesOfSubmission, submission.id)) {
      result.running_entries.push_back(read_entry(row));
    }
  }
  // Entries of several running submissions were read one submission at a time.
  std::sort(result.running_entries.begin(), result.running_entries.end(),
            [](const HistoryEntry& a, const HistoryEntry& b) { return a.position < b.position; });
  return result;
}

void PostgresTransaction::release_session(const SessionKey& key, const Fence& fence) {
  const std::string session_key = key.str();
  if (run(st::kReleaseSession, session_key, fence.owner, fence.epoch).affected_rows() == 0) {
    throw_fenced(session_key, fence);
  }
}

AdmitResult PostgresTransaction::admit(const SessionKey& key, const Fence& fence,
                                       const NewSubmission& submission) {
  const std::string session_key = key.str();
  if (submission.idempotency) {
    // Checked before the lookup so a stale owner learns nothing, and before the
    // sequence is taken so a replay does not consume one.
    check_fence(session_key, fence);
    const pqxx::result found =
        run(st::kFindIdempotencyKey, key.agent, key.instance, submission.idempotency->key);
    if (!found.empty()) {
      const std::string body_hash = found[0][0].as<std::string>();
      const std::string original_id = found[0][1].as<std::string>();
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
  record.sequence = allocate(session_key, fence, st::kAllocateSequence, 1);
  record.input_text = submission.input_text;
  record.accepted_at_ms = submission.accepted_at_ms;
  insert_submission(session_key, record);
  if (submission.idempotency) {
    run(st::kInsertIdempotencyKey, key.agent, key.instance, submission.idempotency->key,
        submission.idempotency->body_hash, record.id, submission.accepted_at_ms);
  }
  return result;
}

void PostgresTransaction::insert_submission(const std::string& session_key,
                                            const SubmissionRecord& record) {
  encode_submission_input(record.input_text, scratch_);
  const char* dispatch_id = record.dispatch_id.empty() ? nullptr : record.dispatch_id.c_str();
  run(st::kInsertSubmission, record.id, session_key, record.key.agent, record.key.instance,
      record.key.session, record.sequence, to_string(record.kind), dispatch_id,
      to_string(record.state), pqxx::binarystring(scratch_), record.accepted_at_ms);
}

std::vector<int64_t> PostgresTransaction::mutate(const SessionKey& key, const Fence& fence,
                                                 const SessionMutation& mutation) {
  const std::string session_key = key.str();
  std::vector<int64_t> positions;
  if (mutation.append.empty()) {
    check_fence(session_key, fence);
  } else {
    const auto count = static_cast<int64_t>(mutation.append.size());
    const int64_t first = allocate(session_key, fence, st::kAllocatePosition, count);
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

void PostgresTransaction::insert_entry(const std::string& session_key, const HistoryEntry& entry,
                                       int64_t position) {
  encode_entry_content(entry, scratch_);
  run(st::kInsertEntry, session_key, position, entry.sequence, entry.submission_id, entry.type,
      to_string(entry.status), entry.timestamp_ms, pqxx::binarystring(scratch_));
}

void PostgresTransaction::patch_entry(const std::string& session_key, const EntryPatch& patch) {
  if (run(st::kPatchEntry, session_key, patch.position, to_string(patch.status)).affected_rows() ==
      0) {
    throw StorageFailure("session " + session_key + " has no history entry at position " +
                         std::to_string(patch.position));
  }
}

void PostgresTransaction::patch_submission(const std::string& session_key,
                                           const SubmissionPatch& patch) {
  const std::optional<std::string> state =
      patch.state ? std::optional<std::string>(to_string(*patch.state)) : std::nullopt;
  const std::optional<std::string> fields[] = {
      as_text(patch.input_applied), as_text(patch.attempts),      as_text(patch.abort_requested),
      as_text(patch.released),      as_text(patch.started_at_ms), as_text(patch.settled_at_ms)};
  const pqxx::result changed =
      run(st::kPatchSubmission, patch.id, session_key, nullable(state), nullable(fields[0]),
          nullable(fields[1]), nullable(fields[2]), nullable(fields[3]), nullable(fields[4]),
          nullable(fields[5]), nullable(patch.result_json), nullable(patch.error_json),
          nullable(patch.last_owner), nullable(patch.usage_json));
  if (changed.affected_rows() == 0) {
    throw StorageFailure("submission " + patch.id + " does not belong to session " + session_key);
  }
}

}  // namespace sluice::persistence::postgres
