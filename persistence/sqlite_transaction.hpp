#pragma once
// The SQLite Transaction: BEGIN IMMEDIATE on construction (the write lock is
// taken up front, so a batch never fails half way on a lock upgrade), ROLLBACK
// on destruction unless committed. The methods are spread over
// sqlite_transaction.cpp (lifecycle), sqlite_writes.cpp (fenced writes),
// sqlite_reads.cpp, sqlite_nodes.cpp, sqlite_runs.cpp (workflow runs) and
// sqlite_retention.cpp (deleting session data, purging what is old).
//
// A method that throws may leave part of its writes in the transaction; the
// executor's per-job savepoint is what takes them out again (a caller driving a
// Transaction directly rolls the whole transaction back).
#include <string>

#include "persistence/sqlite_connection.hpp"
#include "persistence/store.hpp"

namespace sluice::persistence::sqlite {

class SqliteTransaction final : public Transaction {
 public:
  // `scratch` is a payload buffer owned by the database and reused across rows.
  SqliteTransaction(Connection& db, std::string& scratch);
  ~SqliteTransaction() override;

  void savepoint() override;
  void release_savepoint() override;
  // Rolls back to the savepoint and ends it, so savepoints never nest.
  void rollback_to_savepoint() override;
  void commit() override;

  ClaimResult claim_session(const SessionKey& key, const NodeIdentity& me) override;
  void release_session(const SessionKey& key, const Fence& fence) override;
  AdmitResult admit(const SessionKey& key, const Fence& fence,
                    const NewSubmission& submission) override;
  std::vector<int64_t> mutate(const SessionKey& key, const Fence& fence,
                              const SessionMutation& mutation) override;

  std::optional<SubmissionRecord> get_submission(const std::string& agent,
                                                 const std::string& instance,
                                                 const std::string& submission_id) override;
  std::vector<SubmissionRecord> list_submissions(const SessionKey& key,
                                                 std::optional<SubmissionState> state,
                                                 const Page& page) override;
  std::vector<HistoryEntry> read_history(const SessionKey& key, const Page& page) override;

  void register_node(const NodeIdentity& me, int64_t lease_ms) override;
  bool renew_lease(const NodeIdentity& me, int64_t lease_ms) override;
  void deregister_node(const NodeIdentity& me) override;
  std::vector<SessionKey> orphaned_sessions(const NodeIdentity& me, int limit) override;
  std::vector<NodeRecord> list_nodes() override;
  std::vector<NodeWorkload> node_workloads() override;
  std::vector<InstanceSession> instance_sessions(const std::string& agent,
                                                 const std::string& instance) override;

  void create_run(const RunRecord& run) override;
  std::vector<int64_t> append_run_events(const std::string& run_id,
                                         const std::string& owner_incarnation,
                                         const std::vector<NewRunEvent>& events,
                                         const std::optional<RunEnding>& ending) override;
  std::optional<RunRecord> get_run(const std::string& run_id) override;
  std::vector<StoredRunEvent> read_run_events(const std::string& run_id, int64_t after, int limit,
                                              const std::vector<std::string>& types) override;
  std::vector<RunRecord> list_runs(const RunFilter& filter) override;
  std::vector<RunRecord> interrupted_runs(const NodeIdentity& me, int limit) override;

  void delete_session_data(const SessionKey& key, const Fence& fence,
                           int64_t through_sequence) override;
  PurgeCounts purge_settled_before(int64_t cutoff_ms) override;

 private:
  // Throws FencedError unless the session row is owned under `fence`.
  void check_fence(const std::string& session_key, const Fence& fence);
  // Takes the next `count` values of a per-session counter under the fence and
  // returns the first one.
  int64_t allocate(const std::string& session_key, const Fence& fence, const char* sql,
                   int64_t count);
  std::optional<SubmissionRecord> find_submission(const std::string& id);
  void insert_submission(const std::string& session_key, const SubmissionRecord& record);
  void insert_entry(const std::string& session_key, const HistoryEntry& entry, int64_t position);
  void patch_entry(const std::string& session_key, const EntryPatch& patch);
  void patch_submission(const std::string& session_key, const SubmissionPatch& patch);

  Connection& db_;
  std::string& scratch_;
  bool finished_ = false;
};

}  // namespace sluice::persistence::sqlite
