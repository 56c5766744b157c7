#pragma once
// Every SQL statement the Postgres backend runs in a transaction, prepared once
// per connection under its name. Statements mirror sqlite_writes.cpp,
// sqlite_reads.cpp and sqlite_nodes.cpp one for one; the differences are
// Postgres spelling ($n, IS DISTINCT FROM, sessions.epoch in ON CONFLICT) and
// row locks: SQLite serialises writers with BEGIN IMMEDIATE, Postgres runs
// writers concurrently, so a fence check locks the session row until commit.
// Workflow runs and retention mirror sqlite_runs.cpp and sqlite_retention.cpp,
// with several of SQLite's statements folded into one here (a round trip each
// saved). kFlushBatch has no SQLite twin: it writes everything a batch
// transaction (postgres_batch_transaction.hpp) queued, in one round trip.
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
inline constexpr const char* kCreateRun = "create_run";
inline constexpr const char* kAdvanceRun = "advance_run";
inline constexpr const char* kInsertRunEvents = "insert_run_events";
inline constexpr const char* kRunById = "run_by_id";
inline constexpr const char* kReadRunEvents = "read_run_events";
inline constexpr const char* kListRuns = "list_runs";
inline constexpr const char* kListRunsByStatus = "list_runs_by_status";
inline constexpr const char* kListRunsByWorkflow = "list_runs_by_workflow";
inline constexpr const char* kListRunsByWorkflowStatus = "list_runs_by_workflow_status";
inline constexpr const char* kInterruptedRuns = "interrupted_runs";
inline constexpr const char* kDeleteSessionData = "delete_session_data";
inline constexpr const char* kTryPurgeLock = "try_purge_lock";
inline constexpr const char* kPurge = "purge";
}  // namespace statements

// Declares every statement above on `connection` (libpqxx prepares each one on
// the server at its first use).
void prepare_statements(pqxx::connection& connection);

}  // namespace sluice::persistence::postgres
