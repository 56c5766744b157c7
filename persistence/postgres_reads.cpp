// The unfenced reads, node registration, leases and the orphan scan of
// PostgresTransaction. Lease times come from this process's clock (now_ms), as
// in SQLite, never from the server's now(): every backend and every node
// compares the same kind of timestamp.
#include <algorithm>

#include "core/clock.hpp"
#include "persistence/postgres_rows.hpp"
#include "persistence/postgres_statements.hpp"
#include "persistence/postgres_transaction.hpp"

namespace sluice::persistence::postgres {
namespace {

namespace st = statements;

// A negative LIMIT is an error to Postgres; a page never asks for that.
int64_t page_limit(const Page& page) {
  return std::max(page.limit, 0);
}

}  // namespace

std::optional<SubmissionRecord> PostgresTransaction::find_submission(const std::string& id) {
  const pqxx::result rows = run(st::kSubmissionById, id);
  if (rows.empty()) return std::nullopt;
  return read_submission(rows[0]);
}

std::optional<SubmissionRecord> PostgresTransaction::get_submission(
    const std::string& agent, const std::string& instance, const std::string& submission_id) {
  const pqxx::result rows = run(st::kSubmissionOfInstance, submission_id, agent, instance);
  if (rows.empty()) return std::nullopt;
  return read_submission(rows[0]);
}

std::vector<SubmissionRecord> PostgresTransaction::list_submissions(
    const SessionKey& key, std::optional<SubmissionState> state, const Page& page) {
  const char* wanted = state ? to_string(*state) : nullptr;
  std::vector<SubmissionRecord> out;
  for (const auto& row :
       run(st::kListSubmissions, key.str(), page.after, wanted, page_limit(page))) {
    out.push_back(read_submission(row));
  }
  return out;
}

std::vector<HistoryEntry> PostgresTransaction::read_history(const SessionKey& key,
                                                            const Page& page) {
  std::vector<HistoryEntry> out;
  for (const auto& row : run(st::kReadHistory, key.str(), page.after, page_limit(page))) {
    out.push_back(read_entry(row));
  }
  return out;
}

void PostgresTransaction::register_node(const NodeIdentity& me, int64_t lease_ms) {
  const int64_t now = now_ms();
  run(st::kRegisterNode, me.node_id, me.incarnation, me.advertise, now + lease_ms, now);
}

bool PostgresTransaction::renew_lease(const NodeIdentity& me, int64_t lease_ms) {
  const int64_t expires = now_ms() + lease_ms;
  return run(st::kRenewLease, me.node_id, me.incarnation, expires, now_ms()).affected_rows() == 1;
}

void PostgresTransaction::deregister_node(const NodeIdentity& me) {
  run(st::kDeregisterNode, me.node_id, me.incarnation);
}

std::vector<SessionKey> PostgresTransaction::orphaned_sessions(const NodeIdentity& me, int limit) {
  const int64_t now = now_ms();
  const int64_t max_rows = std::max(limit, 0);
  std::vector<SessionKey> out;
  for (const auto& row : run(st::kOrphanedSessions, me.node_id, me.incarnation, now, max_rows)) {
    out.push_back(
        SessionKey{row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>()});
  }
  return out;
}

std::vector<NodeRecord> PostgresTransaction::list_nodes() {
  std::vector<NodeRecord> out;
  for (const auto& row : run(st::kListNodes)) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                   row[3].as<int64_t>(), row[4].as<int64_t>()});
  }
  return out;
}

std::vector<NodeWorkload> PostgresTransaction::node_workloads() {
  std::vector<NodeWorkload> out;
  for (const auto& row : run(st::kNodeWorkloads)) {
    out.push_back({row[0].as<std::string>(), row[1].as<int64_t>(), row[2].as<int64_t>()});
  }
  return out;
}

std::vector<InstanceSession> PostgresTransaction::instance_sessions(const std::string& agent,
                                                                   const std::string& instance) {
  std::vector<InstanceSession> out;
  for (const auto& row : run(st::kInstanceSessions, agent, instance)) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<int64_t>(),
                   row[3].as<int64_t>() > 0, row[4].as<std::string>()});
  }
  return out;
}

}  // namespace sluice::persistence::postgres
