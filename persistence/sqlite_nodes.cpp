// Node registration, leases and the orphan scan of SqliteTransaction.
#include <algorithm>

#include "core/clock.hpp"
#include "persistence/cluster_sql.hpp"
#include "persistence/sqlite_queries.hpp"
#include "persistence/sqlite_transaction.hpp"

namespace sluice::persistence::sqlite {

void SqliteTransaction::register_node(const NodeIdentity& me, int64_t lease_ms) {
  const int64_t now = now_ms();
  const int64_t expires = now + lease_ms;
  Statement statement = db_.prepare(
      "INSERT INTO nodes (node_id, incarnation, advertise, lease_expires_at_ms, "
      "registered_at_ms) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (node_id) DO UPDATE SET "
      "incarnation = excluded.incarnation, advertise = excluded.advertise, "
      "lease_expires_at_ms = excluded.lease_expires_at_ms, "
      "registered_at_ms = excluded.registered_at_ms");
  statement.bind(1, me.node_id).bind(2, me.incarnation).bind(3, me.advertise);
  statement.bind(4, expires).bind(5, now).run();
}

bool SqliteTransaction::renew_lease(const NodeIdentity& me, int64_t lease_ms) {
  const int64_t expires = now_ms() + lease_ms;
  Statement statement = db_.prepare(
      "UPDATE nodes SET lease_expires_at_ms = ?3 WHERE node_id = ?1 AND incarnation = ?2 "
      "AND lease_expires_at_ms >= ?4");
  statement.bind(1, me.node_id).bind(2, me.incarnation).bind(3, expires).bind(4, now_ms()).run();
  return statement.changes() == 1;
}

void SqliteTransaction::deregister_node(const NodeIdentity& me) {
  Statement statement = db_.prepare("DELETE FROM nodes WHERE node_id = ?1 AND incarnation = ?2");
  statement.bind(1, me.node_id).bind(2, me.incarnation).run();
}

std::vector<SessionKey> SqliteTransaction::orphaned_sessions(const NodeIdentity& me, int limit) {
  const int64_t now = now_ms();
  const int64_t max_rows = std::max(limit, 0);
  Statement statement = db_.prepare(queries::kOrphanedSessions);
  statement.bind(1, me.node_id).bind(2, me.incarnation).bind(3, now).bind(4, max_rows);
  std::vector<SessionKey> out;
  while (statement.step())
    out.push_back(SessionKey{statement.text(1), statement.text(2), statement.text(3)});
  return out;
}

std::vector<NodeRecord> SqliteTransaction::list_nodes() {
  Statement statement = db_.prepare(kListNodesSql);
  std::vector<NodeRecord> out;
  while (statement.step()) {
    out.push_back({statement.text(0), statement.text(1), statement.text(2), statement.int64(3),
                   statement.int64(4)});
  }
  return out;
}

std::vector<NodeWorkload> SqliteTransaction::node_workloads() {
  Statement statement = db_.prepare(kNodeWorkloadsSql);
  std::vector<NodeWorkload> out;
  while (statement.step()) out.push_back({statement.text(0), statement.int64(1), statement.int64(2)});
  return out;
}

std::vector<InstanceSession> SqliteTransaction::instance_sessions(const std::string& agent,
                                                                 const std::string& instance) {
  Statement statement = db_.prepare(SLUICE_SQL_INSTANCE_SESSIONS("?1", "?2"));
  statement.bind(1, agent).bind(2, instance);
  std::vector<InstanceSession> out;
  while (statement.step()) {
    out.push_back({statement.text(0), statement.text(1), statement.int64(2),
                   statement.int64(3) > 0, statement.text(4)});
  }
  return out;
}

}  // namespace sluice::persistence::sqlite
