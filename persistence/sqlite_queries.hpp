#pragma once
// The read queries whose cost must not grow with settled work. They live here,
// not beside their callers, so sqlite_plan_test can check each one's query plan
// uses an index (the partial index of unsettled submissions, or a key).

// Column lists: each pairs with read_submission / read_entry (sqlite_rows.hpp).
#define SLUICE_SQL_SUBMISSION_COLUMNS                                                        \
  "id, dispatch_id, agent, instance, session, kind, sequence, state, input, input_applied, " \
  "attempts, abort_requested, released, accepted_at_ms, started_at_ms, settled_at_ms, "      \
  "result_json, error_json, last_owner, usage_json"

#define SLUICE_SQL_HISTORY_COLUMNS \
  "position, sequence, submission_id, type, status, timestamp_ms, payload"

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

}  // namespace sluice::persistence::sqlite::queries
