#pragma once
// Every SQL statement the Postgres backend runs in a transaction, prepared once
// per connection under its name. Statements mirror sqlite_writes.cpp,
// sqlite_reads.cpp and sqlite_nodes.cpp one for one; the differences are
// Postgres spelling ($n, IS DISTINCT FROM, sessions.epoch in ON CONFLICT) and
// row locks: SQLite serialises writers with BEGIN IMMEDIATE, Postgres runs
// writers concurrently, so a fence check locks the session row until commit.
// kFlushBatch has no SQLite twin: it writes everything a batch transaction
// (postgres_batch_transaction.hpp) queued, in one round trip.
#include <pqxx/connection>

namespace sluice::persistence::postgres {

namespace statements {
inline constexpr const char* kCheckFence = "check_fence";
inline constexpr const char* kAllocateSequence = "allocate_sequence";
inline constexpr const char* kAllocatePosition = "allocate_position";
inline constexpr const char* kClaimSession = "claim_session";
inline constexpr const char* kReleaseSession = "release_session";
inline constexpr const char* kFindIdempotencyKey = "find_idempotency_key";
inline constexpr const char* kInsertIdempotencyKey = "insert_idempotency_key";
inline constexpr const char* kInsertSubmission = "insert_submission";
inline constexpr const char* kInsertEntry = "insert_entry";
inline constexpr const char* kPatchEntry = "patch_entry";
inline constexpr const char* kPatchSubmission = "patch_submission";
inline constexpr const char* kUnsettledSubmissions = "unsettled_submissions";
inline constexpr const char* kEntriesOfSubmission = "entries_of_submission";
inline constexpr const char* kSubmissionById = "submission_by_id";
inline constexpr const char* kSubmissionOfInstance = "submission_of_instance";
inline constexpr const char* kListSubmissions = "list_submissions";
inline constexpr const char* kReadHistory = "read_history";
inline constexpr const char* kRegisterNode = "register_node";
inline constexpr const char* kRenewLease = "renew_lease";
inline constexpr const char* kDeregisterNode = "deregister_node";
inline constexpr const char* kOrphanedSessions = "orphaned_sessions";
inline constexpr const char* kSessionHolder = "session_holder";
inline constexpr const char* kListNodes = "list_nodes";
inline constexpr const char* kNodeWorkloads = "node_workloads";
inline constexpr const char* kInstanceSessions = "instance_sessions";
inline constexpr const char* kFlushBatch = "flush_batch";
}  // namespace statements

// Declares every statement above on `connection` (libpqxx prepares each one on
// the server at its first use).
void prepare_statements(pqxx::connection& connection);

}  // namespace sluice::persistence::postgres
