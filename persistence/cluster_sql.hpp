#pragma once
// SQL about membership and ownership that both backends run word for word
// (placeholders are passed in, since SQLite spells them ?n and Postgres $n).

// The condition under which a claimant may take a session row over (inside the
// claim's ON CONFLICT ... DO UPDATE): nobody holds it, the claimant already
// does (a previous incarnation of the same node id), or the holder's lease is
// gone (no row for its incarnation, or expired at `now`).
#define SLUICE_SQL_CLAIMABLE_BY(me, now)                                                    \
  "(sessions.owner_node IS NULL OR sessions.owner_node = " me " OR NOT EXISTS ("           \
  "SELECT 1 FROM nodes n WHERE n.node_id = sessions.owner_node AND n.incarnation = "       \
  "sessions.owner_incarnation AND n.lease_expires_at_ms >= " now "))"

// The condition under which an active run `r` has lost its owner, seen by the
// node `me` (its incarnation `my_incarnation`): the orphan rule of
// orphaned_sessions (sqlite_queries.hpp, postgres_statements.cpp) for an owner
// that is never NULL: another incarnation of `me`, or another node with no
// membership row, a row of another incarnation, or an expired lease. Both
// incarnation columns are NOT NULL, so `<>` is exact in both backends.
#define SLUICE_SQL_RUN_OWNER_GONE(me, my_incarnation, now)                                  \
  "((r.owner_node = " me " AND r.owner_incarnation <> " my_incarnation ") "                \
  "OR (r.owner_node <> " me " AND (n.node_id IS NULL "                                      \
  "OR n.incarnation <> r.owner_incarnation OR n.lease_expires_at_ms < " now ")))"

// The sessions of an agent instance with their owner and work; uses the
// sessions_by_instance index and each session's (session_key, sequence) ones.
#define SLUICE_SQL_INSTANCE_SESSIONS(agent, instance)                                       \
  "SELECT s.session, COALESCE(s.owner_node, ''), "                                          \
  "(SELECT COUNT(*) FROM submissions u WHERE u.session_key = s.session_key "                \
  "AND u.state IN ('queued', 'running')), "                                                  \
  "(SELECT COUNT(*) FROM submissions u WHERE u.session_key = s.session_key "                \
  "AND u.state = 'running'), "                                                               \
  "COALESCE((SELECT u.state FROM submissions u WHERE u.session_key = s.session_key "        \
  "AND u.state IN ('completed', 'failed', 'aborted') ORDER BY u.sequence DESC LIMIT 1), '') " \
  "FROM sessions s WHERE s.agent = " agent " AND s.instance = " instance                     \
  " ORDER BY s.session LIMIT 1000"

namespace sluice::persistence {

inline constexpr const char* kNodeWorkloadsSql =
    "SELECT s.owner_node, COUNT(*), COALESCE(SUM(w.unsettled), 0) FROM sessions s "
    "LEFT JOIN (SELECT session_key, COUNT(*) AS unsettled FROM submissions "
    "WHERE state IN ('queued', 'running') GROUP BY session_key) w "
    "ON w.session_key = s.session_key "
    "WHERE s.owner_node IS NOT NULL GROUP BY s.owner_node ORDER BY s.owner_node";

inline constexpr const char* kListNodesSql =
    "SELECT node_id, incarnation, advertise, lease_expires_at_ms, registered_at_ms "
    "FROM nodes ORDER BY node_id";

}  // namespace sluice::persistence
