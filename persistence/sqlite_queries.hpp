#pragma once
// The queries whose cost must not grow with settled work (reads, and the
// deletes of retention). They live here, not beside their callers, so
// sqlite_schema_test can check each one's query plan uses an index (a partial
// index of unsettled or settled rows, or a key).
#include "persistence/cluster_sql.hpp"

// Column lists: each pairs with read_submission / read_entry (sqlite_rows.hpp).
#define SLUICE_SQL_SUBMISSION_COLUMNS                                                        \
  "id, dispatch_id, agent, instance, session, kind, sequence, state, input, input_applied, " \
  "attempts, abort_requested, released, accepted_at_ms, started_at_ms, settled_at_ms, "      \
  "result_json, error_json, last_owner, usage_json"

#define SLUICE_SQL_HISTORY_COLUMNS \
  "position, sequence, submission_id, type, status, timestamp_ms, payload"

// Pairs with read_run (sqlite_rows.hpp).
#define SLUICE_SQL_RUN_COLUMNS                                                              \
  "run_id, workflow_name, status, payload_json, started_at_ms, ended_at_ms, is_error, "    \
  "result_json, error_json, owner_node, owner_incarnation, next_event_index"

// The page of runs before the cursor ?1 (started_at_ms), ?2 (run_id), newest
// first, at most ?3; `filter` adds the conditions on ?4 (and ?5). Each filter
// has an index whose prefix it is, followed by (started_at_ms, run_id).
#define SLUICE_SQL_LIST_RUNS(filter)                                                        \
  "SELECT " SLUICE_SQL_RUN_COLUMNS " FROM runs WHERE " filter                               \
  "(started_at_ms, run_id) < (?1, ?2) ORDER BY started_at_ms DESC, run_id DESC LIMIT ?3"

namespace sluice::persistence::sqlite::queries {

// ?1 session key. Repeats the partial index's condition word for word, which is
// what lets sqlite use that index.
inline constexpr const char* kUnsettledSubmissions =
    "SELECT " SLUICE_SQL_SUBMISSION_COLUMNS
    " FROM submissions WHERE session_key = ?1 AND state IN ('queued', 'running') "
    "ORDER BY sequence";

// ?1 submission id.
inline constexpr const char* kEntriesOfSubmission =
    "SELECT " SLUICE_SQL_HISTORY_COLUMNS " FROM history WHERE submission_id = ?1 ORDER BY position";

// ?1 id.
inline constexpr const char* kSubmissionById =
    "SELECT " SLUICE_SQL_SUBMISSION_COLUMNS " FROM submissions WHERE id = ?1";

// ?1 id, ?2 agent, ?3 instance.
inline constexpr const char* kSubmissionOfInstance =
    "SELECT " SLUICE_SQL_SUBMISSION_COLUMNS
    " FROM submissions WHERE id = ?1 AND agent = ?2 AND instance = ?3";

// ?1 session key, ?2 after sequence, ?3 state or NULL, ?4 limit.
inline constexpr const char* kListSubmissions =
    "SELECT " SLUICE_SQL_SUBMISSION_COLUMNS
    " FROM submissions WHERE session_key = ?1 AND sequence > ?2 "
    "AND (?3 IS NULL OR state = ?3) ORDER BY sequence LIMIT ?4";

// ?1 session key, ?2 after position, ?3 limit.
inline constexpr const char* kReadHistory =
    "SELECT " SLUICE_SQL_HISTORY_COLUMNS
    " FROM history WHERE session_key = ?1 AND position > ?2 ORDER BY position LIMIT ?3";

// ?1 my node id, ?2 my incarnation, ?3 now (ms), ?4 limit.
// Walks the partial index of unsettled submissions in session_key order (so
// DISTINCT streams and LIMIT stops early); each candidate costs one primary-key
// lookup into sessions and one into nodes.
inline constexpr const char* kOrphanedSessions =
    "SELECT DISTINCT u.session_key, s.agent, s.instance, s.session "
    "FROM submissions u "
    "JOIN sessions s ON s.session_key = u.session_key "
    "LEFT JOIN nodes n ON n.node_id = s.owner_node "
    "WHERE u.state IN ('queued', 'running') AND ("
    "s.owner_node IS NULL "
    "OR (s.owner_node = ?1 AND s.owner_incarnation IS NOT ?2) "
    "OR (s.owner_node <> ?1 AND (n.node_id IS NULL OR n.incarnation IS NOT s.owner_incarnation "
    "OR n.lease_expires_at_ms < ?3))) "
    "ORDER BY u.session_key LIMIT ?4";

// ?1 run id.
inline constexpr const char* kRunById =
    "SELECT " SLUICE_SQL_RUN_COLUMNS " FROM runs WHERE run_id = ?1";

// The variants of the run listing: no filter, ?4 status, ?4 workflow name,
// ?4 status and ?5 workflow name.
inline constexpr const char* kListRuns = SLUICE_SQL_LIST_RUNS("");
inline constexpr const char* kListRunsByStatus = SLUICE_SQL_LIST_RUNS("status = ?4 AND ");
inline constexpr const char* kListRunsByWorkflow = SLUICE_SQL_LIST_RUNS("workflow_name = ?4 AND ");
inline constexpr const char* kListRunsByWorkflowStatus =
    SLUICE_SQL_LIST_RUNS("status = ?4 AND workflow_name = ?5 AND ");

// ?1 my node id, ?2 my incarnation, ?3 now (ms), ?4 limit. Walks the active
// runs oldest first; each costs one primary-key lookup into nodes.
inline constexpr const char* kInterruptedRuns =
    "SELECT " SLUICE_SQL_RUN_COLUMNS
    " FROM runs r LEFT JOIN nodes n ON n.node_id = r.owner_node "
    "WHERE r.status = 'active' AND " SLUICE_SQL_RUN_OWNER_GONE("?1", "?2", "?3")
    " ORDER BY r.started_at_ms, r.run_id LIMIT ?4";

// ?1 run id, ?2 after index, ?3 JSON array of wanted types or NULL for all,
// ?4 limit.
inline constexpr const char* kReadRunEvents =
    "SELECT event_index, type, timestamp_ms, data_json FROM run_events "
    "WHERE run_id = ?1 AND event_index > ?2 "
    "AND (?3 IS NULL OR type IN (SELECT value FROM json_each(?3))) "
    "ORDER BY event_index LIMIT ?4";

// Retention: ?1 cutoff (ms). Keys go first, while the submissions they name
// are still there to be found.
inline constexpr const char* kPurgeKeys =
    "DELETE FROM idempotency_keys WHERE created_at_ms < ?1 OR submission_id IN ("
    "SELECT id FROM submissions WHERE state IN ('completed', 'failed', 'aborted') "
    "AND settled_at_ms < ?1)";
inline constexpr const char* kPurgeSubmissions =
    "DELETE FROM submissions WHERE state IN ('completed', 'failed', 'aborted') "
    "AND settled_at_ms < ?1";
inline constexpr const char* kPurgeRunEvents =
    "DELETE FROM run_events WHERE run_id IN ("
    "SELECT run_id FROM runs WHERE status <> 'active' AND ended_at_ms < ?1)";
inline constexpr const char* kPurgeRuns =
    "DELETE FROM runs WHERE status <> 'active' AND ended_at_ms < ?1";

// Deleting a session's data: ?1 session key, ?2 through sequence.
inline constexpr const char* kDeleteSessionKeys =
    "DELETE FROM idempotency_keys WHERE submission_id IN ("
    "SELECT id FROM submissions WHERE session_key = ?1 AND sequence <= ?2)";
inline constexpr const char* kDeleteSessionHistory =
    "DELETE FROM history WHERE session_key = ?1 AND sequence <= ?2";
inline constexpr const char* kDeleteSessionSubmissions =
    "DELETE FROM submissions WHERE session_key = ?1 AND sequence <= ?2";

}  // namespace sluice::persistence::sqlite::queries
