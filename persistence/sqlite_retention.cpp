// Deleting a session's data and purging what retention no longer keeps, in
// SqliteTransaction.
#include "persistence/sqlite_queries.hpp"
#include "persistence/sqlite_transaction.hpp"

namespace sluice::persistence::sqlite {
namespace {

// Runs a statement taking one parameter and returns how many rows it deleted.
int64_t delete_rows(Connection& db, const char* sql, int64_t value) {
  Statement statement = db.prepare(sql);
  statement.bind(1, value).run();
  return statement.changes();
}

}  // namespace

void SqliteTransaction::delete_session_data(const SessionKey& key, const Fence& fence,
                                            int64_t through_sequence) {
  const std::string session_key = key.str();
  check_fence(session_key, fence);
  // Keys first: they are found through the submissions they name.
  for (const char* sql : {queries::kDeleteSessionKeys, queries::kDeleteSessionHistory,
                          queries::kDeleteSessionSubmissions}) {
    Statement statement = db_.prepare(sql);
    statement.bind(1, session_key).bind(2, through_sequence).run();
  }
}

PurgeCounts SqliteTransaction::purge_settled_before(int64_t cutoff_ms) {
  PurgeCounts counts;
  counts.idempotency_keys = delete_rows(db_, queries::kPurgeKeys, cutoff_ms);
  counts.submissions = delete_rows(db_, queries::kPurgeSubmissions, cutoff_ms);
  counts.run_events = delete_rows(db_, queries::kPurgeRunEvents, cutoff_ms);
  counts.runs = delete_rows(db_, queries::kPurgeRuns, cutoff_ms);
  return counts;
}

}  // namespace sluice::persistence::sqlite
