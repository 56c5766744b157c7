#include "persistence/postgres_statements.hpp"

#include <utility>

#include "persistence/cluster_sql.hpp"

namespace sluice::persistence::postgres {
namespace {

// Column lists: each pairs with read_submission / read_entry (postgres_rows.hpp).
#define SLUICE_PG_SUBMISSION_COLUMNS                                                         \
  "id, dispatch_id, agent, instance, session, kind, sequence, state, input, input_applied, " \
  "attempts, abort_requested, released, accepted_at_ms, started_at_ms, settled_at_ms, "      \
  "result_json, error_json, last_owner, usage_json"
#define SLUICE_PG_HISTORY_COLUMNS \
  "position, sequence, submission_id, type, status, timestamp_ms, payload"
// Pairs with read_run.
#define SLUICE_PG_RUN_COLUMNS                                                               \
  "run_id, workflow_name, status, payload_json, started_at_ms, ended_at_ms, is_error, "    \
  "result_json, error_json, owner_node, owner_incarnation, next_event_index"
// $1 cursor started_at_ms, $2 cursor run_id, $3 limit; `filter` adds the
// conditions on $4 (and $5). As in SQLite, each filter is the prefix of an index.
#define SLUICE_PG_LIST_RUNS(filter)                                                         \
  "SELECT " SLUICE_PG_RUN_COLUMNS " FROM runs WHERE " filter                                \
  "(started_at_ms, run_id) < ($1::bigint, $2::text) "                                       \
  "ORDER BY started_at_ms DESC, run_id DESC LIMIT $3"

constexpr std::pair<const char*, const char*> kStatements[] = {
    // FOR NO KEY UPDATE: a concurrent claim of the same session waits for this
    // transaction, so a write that passed its fence check is never overtaken.
    // The counters let a batch transaction assign the next ones itself.
    {statements::kCheckFence,
     "SELECT next_sequence, next_position FROM sessions "
     "WHERE session_key = $1 AND owner_node = $2 AND epoch = $3 FOR NO KEY UPDATE"},
    {statements::kAllocateSequence,
     "UPDATE sessions SET next_sequence = next_sequence + $4 "
     "WHERE session_key = $1 AND owner_node = $2 AND epoch = $3 RETURNING next_sequence - $4"},
    {statements::kAllocatePosition,
     "UPDATE sessions SET next_position = next_position + $4 "
     "WHERE session_key = $1 AND owner_node = $2 AND epoch = $3 RETURNING next_position - $4"},
    {statements::kClaimSession,
     "INSERT INTO sessions (session_key, agent, instance, session, owner_node, "
     "owner_incarnation, epoch, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, 1, $7) "
     "ON CONFLICT (session_key) DO UPDATE SET owner_node = excluded.owner_node, "
     "owner_incarnation = excluded.owner_incarnation, epoch = sessions.epoch + 1 "
     "WHERE " SLUICE_SQL_CLAIMABLE_BY("$5::text", "$7") " "
     "RETURNING epoch, next_sequence, next_position"},
    {statements::kReleaseSession,
     "UPDATE sessions SET owner_node = NULL, owner_incarnation = NULL "
     "WHERE session_key = $1 AND owner_node = $2 AND epoch = $3"},
    {statements::kFindIdempotencyKey,
     "SELECT body_hash, submission_id FROM idempotency_keys "
     "WHERE agent = $1 AND instance = $2 AND key = $3"},
    {statements::kInsertIdempotencyKey,
     "INSERT INTO idempotency_keys (agent, instance, key, body_hash, submission_id, "
     "created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)"},
    {statements::kInsertSubmission,
     "INSERT INTO submissions (id, session_key, agent, instance, session, sequence, kind, "
     "dispatch_id, state, input, accepted_at_ms) "
     "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"},
    {statements::kInsertEntry,
     "INSERT INTO history (session_key, position, sequence, submission_id, type, status, "
     "timestamp_ms, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"},
    {statements::kPatchEntry,
     "UPDATE history SET status = $3 WHERE session_key = $1 AND position = $2"},
    // A NULL parameter leaves its column as it is, so one statement serves every
    // combination of set fields.
    {statements::kPatchSubmission,
     "UPDATE submissions SET state = COALESCE($3::text, state), "
     "input_applied = COALESCE($4::boolean, input_applied), "
     "attempts = COALESCE($5::bigint, attempts), "
     "abort_requested = COALESCE($6::boolean, abort_requested), "
     "released = COALESCE($7::boolean, released), "
     "started_at_ms = COALESCE($8::bigint, started_at_ms), "
     "settled_at_ms = COALESCE($9::bigint, settled_at_ms), "
     "result_json = COALESCE($10::text, result_json), "
     "error_json = COALESCE($11::text, error_json), "
     "last_owner = COALESCE($12::text, last_owner), "
     "usage_json = COALESCE($13::text, usage_json) WHERE id = $1 AND session_key = $2"},
    // Repeats the partial index's condition word for word, so the planner can use it.
    {statements::kUnsettledSubmissions,
     "SELECT " SLUICE_PG_SUBMISSION_COLUMNS
     " FROM submissions WHERE session_key = $1 AND state IN ('queued', 'running') "
     "ORDER BY sequence"},
    {statements::kEntriesOfSubmission, "SELECT " SLUICE_PG_HISTORY_COLUMNS
                                       " FROM history WHERE submission_id = $1 ORDER BY position"},
    {statements::kSubmissionById,
     "SELECT " SLUICE_PG_SUBMISSION_COLUMNS " FROM submissions WHERE id = $1"},
    {statements::kSubmissionOfInstance,
     "SELECT " SLUICE_PG_SUBMISSION_COLUMNS
     " FROM submissions WHERE id = $1 AND agent = $2 AND instance = $3"},
    {statements::kListSubmissions,
     "SELECT " SLUICE_PG_SUBMISSION_COLUMNS
     " FROM submissions WHERE session_key = $1 AND sequence > $2 "
     "AND ($3::text IS NULL OR state = $3::text) ORDER BY sequence LIMIT $4"},
    {statements::kReadHistory,
     "SELECT " SLUICE_PG_HISTORY_COLUMNS
     " FROM history WHERE session_key = $1 AND position > $2 ORDER BY position LIMIT $3"},
    {statements::kRegisterNode,
     "INSERT INTO nodes (node_id, incarnation, advertise, lease_expires_at_ms, "
     "registered_at_ms) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (node_id) DO UPDATE SET "
     "incarnation = excluded.incarnation, advertise = excluded.advertise, "
     "lease_expires_at_ms = excluded.lease_expires_at_ms, "
     "registered_at_ms = excluded.registered_at_ms"},
    {statements::kRenewLease,
     "UPDATE nodes SET lease_expires_at_ms = $3 WHERE node_id = $1 AND incarnation = $2 "
     "AND lease_expires_at_ms >= $4"},
    {statements::kSessionHolder, "SELECT owner_node FROM sessions WHERE session_key = $1"},
    {statements::kListNodes, kListNodesSql},
    {statements::kNodeWorkloads, kNodeWorkloadsSql},
    {statements::kInstanceSessions, SLUICE_SQL_INSTANCE_SESSIONS("$1", "$2")},
    {statements::kDeregisterNode, "DELETE FROM nodes WHERE node_id = $1 AND incarnation = $2"},
    // $1 my node id, $2 my incarnation, $3 now (ms), $4 limit.
    {statements::kOrphanedSessions,
     "SELECT DISTINCT u.session_key, s.agent, s.instance, s.session "
     "FROM submissions u "
     "JOIN sessions s ON s.session_key = u.session_key "
     "LEFT JOIN nodes n ON n.node_id = s.owner_node "
     "WHERE u.state IN ('queued', 'running') AND ("
     "s.owner_node IS NULL "
     "OR (s.owner_node = $1::text AND s.owner_incarnation IS DISTINCT FROM $2::text) "
     "OR (s.owner_node <> $1::text AND (n.node_id IS NULL "
     "OR n.incarnation IS DISTINCT FROM s.owner_incarnation OR n.lease_expires_at_ms < $3))) "
     "ORDER BY u.session_key LIMIT $4"},
    // Every row a batch transaction queued, as one array per column (the order
    // PendingWrites::encode writes them), in one statement. `fenced` re-checks
    // each session it wrote under the row lock: owner, epoch and both counters
    // must still be what the batch assumed, or the count falls short and the
    // batch runs again. The parts of one statement share a snapshot, so the
    // patches only reach rows that existed before it; PendingWrites folds the
    // others into the rows it inserts.
    {statements::kFlushBatch,
     "WITH fenced AS ("
     "UPDATE sessions s SET next_sequence = v.next_sequence, next_position = v.next_position "
     "FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], "
     "$6::bigint[], $7::bigint[]) AS v(session_key, owner_node, epoch, seen_sequence, "
     "seen_position, next_sequence, next_position) "
     "WHERE s.session_key = v.session_key AND s.owner_node = v.owner_node "
     "AND s.epoch = v.epoch AND s.next_sequence = v.seen_sequence "
     "AND s.next_position = v.seen_position RETURNING 1), "
     "new_submissions AS ("
     "INSERT INTO submissions (id, session_key, agent, instance, session, sequence, kind, "
     "dispatch_id, state, input, input_applied, attempts, abort_requested, released, "
     "accepted_at_ms, started_at_ms, settled_at_ms, result_json, error_json, last_owner) "
     "SELECT * FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::text[], "
     "$13::bigint[], $14::text[], $15::text[], $16::text[], $17::bytea[], $18::boolean[], "
     "$19::bigint[], $20::boolean[], $21::boolean[], $22::bigint[], $23::bigint[], "
     "$24::bigint[], $25::text[], $26::text[], $27::text[])), "
     "new_keys AS ("
     "INSERT INTO idempotency_keys (agent, instance, key, body_hash, submission_id, "
     "created_at_ms) SELECT * FROM unnest($28::text[], $29::text[], $30::text[], "
     "$31::text[], $32::text[], $33::bigint[])), "
     "new_entries AS ("
     "INSERT INTO history (session_key, position, sequence, submission_id, type, status, "
     "timestamp_ms, payload) SELECT * FROM unnest($34::text[], $35::bigint[], "
     "$36::bigint[], $37::text[], $38::text[], $39::text[], $40::bigint[], $41::bytea[])), "
     "entry_patches AS ("
     "UPDATE history h SET status = v.status "
     "FROM unnest($42::text[], $43::bigint[], $44::text[]) AS v(session_key, position, status) "
     "WHERE h.session_key = v.session_key AND h.position = v.position RETURNING 1), "
     "submission_patches AS ("
     "UPDATE submissions u SET state = COALESCE(v.state, u.state), "
     "input_applied = COALESCE(v.input_applied, u.input_applied), "
     "attempts = COALESCE(v.attempts, u.attempts), "
     "abort_requested = COALESCE(v.abort_requested, u.abort_requested), "
     "released = COALESCE(v.released, u.released), "
     "started_at_ms = COALESCE(v.started_at_ms, u.started_at_ms), "
     "settled_at_ms = COALESCE(v.settled_at_ms, u.settled_at_ms), "
     "result_json = COALESCE(v.result_json, u.result_json), "
     "error_json = COALESCE(v.error_json, u.error_json), "
     "last_owner = COALESCE(v.last_owner, u.last_owner), "
     "usage_json = COALESCE(v.usage_json, u.usage_json) "
     "FROM unnest($45::text[], $46::text[], $47::text[], $48::boolean[], $49::bigint[], "
     "$50::boolean[], $51::boolean[], $52::bigint[], $53::bigint[], $54::text[], $55::text[], "
     "$56::text[], $57::text[]) AS v(id, session_key, state, input_applied, attempts, "
     "abort_requested, released, started_at_ms, settled_at_ms, result_json, error_json, "
     "last_owner, usage_json) "
     "WHERE u.id = v.id AND u.session_key = v.session_key RETURNING 1) "
     "SELECT (SELECT count(*) FROM fenced), (SELECT count(*) FROM entry_patches), "
     "(SELECT count(*) FROM submission_patches)"},
    {statements::kCreateRun,
     "INSERT INTO runs (run_id, workflow_name, status, payload_json, started_at_ms, owner_node, "
     "owner_incarnation) VALUES ($1, $2, 'active', $3, $4, $5, $6)"},
    // The fence of a run's writes. UPDATE locks the row and, if another
    // transaction changed it meanwhile, waits for that one and re-checks the
    // condition on the row it left: of an owner appending and a coordinator
    // ending the run at once, the later one sees the other's outcome (the run
    // ended: nothing matches, FencedError; or the indexes moved on: it takes
    // the next ones). An ending ($4 non-NULL) settles the run in the same
    // statement; a NULL parameter leaves its column as it is.
    {statements::kAdvanceRun,
     "UPDATE runs SET next_event_index = next_event_index + $3, "
     "status = COALESCE($4::text, status), is_error = COALESCE($5::boolean, is_error), "
     "result_json = COALESCE($6::text, result_json), "
     "error_json = COALESCE($7::text, error_json), "
     "ended_at_ms = COALESCE($8::bigint, ended_at_ms) "
     "WHERE run_id = $1 AND status = 'active' AND owner_incarnation = $2 "
     "RETURNING next_event_index - $3"},
    // $1 run id, $2 first index, then one array per column.
    {statements::kInsertRunEvents,
     "INSERT INTO run_events (run_id, event_index, type, timestamp_ms, data_json) "
     "SELECT $1, $2 + e.ordinality - 1, e.type, e.timestamp_ms, e.data_json "
     "FROM unnest($3::text[], $4::bigint[], $5::text[]) WITH ORDINALITY "
     "AS e(type, timestamp_ms, data_json, ordinality)"},
    {statements::kRunById, "SELECT " SLUICE_PG_RUN_COLUMNS " FROM runs WHERE run_id = $1"},
    // $3 the wanted types, or NULL for all.
    {statements::kReadRunEvents,
     "SELECT event_index, type, timestamp_ms, data_json FROM run_events "
     "WHERE run_id = $1 AND event_index > $2 "
     "AND ($3::text[] IS NULL OR type = ANY($3::text[])) ORDER BY event_index LIMIT $4"},
    {statements::kListRuns, SLUICE_PG_LIST_RUNS("")},
    {statements::kListRunsByStatus, SLUICE_PG_LIST_RUNS("status = $4 AND ")},
    {statements::kListRunsByWorkflow, SLUICE_PG_LIST_RUNS("workflow_name = $4 AND ")},
    {statements::kListRunsByWorkflowStatus,
     SLUICE_PG_LIST_RUNS("status = $4 AND workflow_name = $5 AND ")},
    // $1 my node id, $2 my incarnation, $3 now (ms), $4 limit.
    {statements::kInterruptedRuns,
     "SELECT " SLUICE_PG_RUN_COLUMNS " FROM runs r LEFT JOIN nodes n ON n.node_id = r.owner_node "
     "WHERE r.status = 'active' AND " SLUICE_SQL_RUN_OWNER_GONE("$1::text", "$2::text", "$3")
     " ORDER BY r.started_at_ms, r.run_id LIMIT $4"},
    // $1 session key, $2 through sequence; run under the fence's row lock. The
    // parts share one snapshot, so the keys are found through submissions the
    // same statement deletes.
    {statements::kDeleteSessionData,
     "WITH doomed AS (SELECT id FROM submissions WHERE session_key = $1 AND sequence <= $2), "
     "keys AS (DELETE FROM idempotency_keys WHERE submission_id IN (SELECT id FROM doomed)), "
     "entries AS (DELETE FROM history WHERE session_key = $1 AND sequence <= $2) "
     "DELETE FROM submissions WHERE session_key = $1 AND sequence <= $2"},
    // Nodes purge on their own schedules; one at a time is enough, and a node
    // that finds another purging skips its pass rather than wait for it (or
    // deadlock with it over the same rows). Held until commit; the key is
    // "sluice" + 2 (migrations take + 1).
    {statements::kTryPurgeLock, "SELECT pg_try_advisory_xact_lock(8317151707346042882)"},
    // $1 cutoff (ms). One snapshot for every part: a run is deleted with the
    // events it had when it ended (it gets none afterwards), and only what was
    // already settled or ended when the statement began goes.
    {statements::kPurge,
     "WITH submissions_gone AS (DELETE FROM submissions "
     "WHERE state IN ('completed', 'failed', 'aborted') AND settled_at_ms < $1 RETURNING id), "
     "keys_gone AS (DELETE FROM idempotency_keys WHERE created_at_ms < $1 "
     "OR submission_id IN (SELECT id FROM submissions_gone) RETURNING 1), "
     "runs_gone AS (DELETE FROM runs WHERE status <> 'active' AND ended_at_ms < $1 "
     "RETURNING run_id), "
     "events_gone AS (DELETE FROM run_events e USING runs_gone g WHERE e.run_id = g.run_id "
     "RETURNING 1) "
     "SELECT (SELECT count(*) FROM submissions_gone), (SELECT count(*) FROM keys_gone), "
     "(SELECT count(*) FROM runs_gone), (SELECT count(*) FROM events_gone)"},
};

#undef SLUICE_PG_SUBMISSION_COLUMNS
#undef SLUICE_PG_HISTORY_COLUMNS
#undef SLUICE_PG_RUN_COLUMNS
#undef SLUICE_PG_LIST_RUNS

}  // namespace

void prepare_statements(pqxx::connection& connection) {
  for (const auto& [name, sql] : kStatements) connection.prepare(name, sql);
}

}  // namespace sluice::persistence::postgres
