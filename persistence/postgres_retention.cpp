// Deleting a session's data and purging what retention no longer keeps, in
// PostgresTransaction.
#include "persistence/postgres_statements.hpp"
#include "persistence/postgres_transaction.hpp"

namespace sluice::persistence::postgres {

namespace st = statements;

void PostgresTransaction::delete_session_data(const SessionKey& key, const Fence& fence,
                                              int64_t through_sequence) {
  const std::string session_key = key.str();
  // Locks the session row until commit, as every fenced write does.
  check_fence(session_key, fence);
  run(st::kDeleteSessionData, session_key, through_sequence);
}

PurgeCounts PostgresTransaction::purge_settled_before(int64_t cutoff_ms) {
  if (!run(st::kTryPurgeLock)[0][0].as<bool>()) return {};
  const pqxx::result counts = run(st::kPurge, cutoff_ms);
  PurgeCounts out;
  out.submissions = counts[0][0].as<int64_t>();
  out.idempotency_keys = counts[0][1].as<int64_t>();
  out.runs = counts[0][2].as<int64_t>();
  out.run_events = counts[0][3].as<int64_t>();
  return out;
}

}  // namespace sluice::persistence::postgres
