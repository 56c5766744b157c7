#pragma once
// The statement-by-statement Postgres Transaction: one pqxx::work (BEGIN on
// construction, ROLLBACK on destruction unless committed), with the executor's
// per-job savepoints as plain SAVEPOINT statements. The methods are spread over
// postgres_transaction.cpp (lifecycle), postgres_writes.cpp (fenced writes),
// postgres_reads.cpp (reads, nodes and leases), postgres_runs.cpp (workflow
// runs) and postgres_retention.cpp (deletion and retention), as for SQLite.
//
// Every operation costs its round trips, so batches normally run in a
// BatchTransaction (postgres_batch_transaction.hpp), which sends this class
// only what it does not queue itself. A batch runs here alone when a
// BatchTransaction gave up on it: then each job's errors must stay its own.
//
// A method that throws may leave part of its writes in the transaction (and,
// after a server error, the transaction unusable until a rollback); the
// executor's per-job savepoint is what takes them out again.
#include <optional>
#include <string>
#include <utility>

#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/result>
#include <pqxx/row>
#include <pqxx/transaction>

#include "persistence/store.hpp"

namespace sluice::persistence::postgres {

[[noreturn]] void throw_fenced(const std::string& session_key, const Fence& fence);

class PostgresTransaction final : public Transaction {
 public:
  // `scratch` is a payload buffer owned by the database and reused across rows.
  PostgresTransaction(pqxx::connection& connection, std::string& scratch);

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

  // Runs a prepared statement (postgres_statements.hpp); a server or connection
  // error becomes a StorageFailure naming the statement.
  template <class... Args>
  pqxx::result run(const char* statement, Args&&... args) {
    try {
      return work_.exec_prepared(statement, std::forward<Args>(args)...);
    } catch (const pqxx::failure& e) {
      throw StorageFailure(std::string("postgres ") + statement + ": " + e.what());
    }
  }
  std::optional<SubmissionRecord> find_submission(const std::string& id);

 private:
  void exec(const char* sql);

  // Throws FencedError unless the session row is owned under `fence`.
  void check_fence(const std::string& session_key, const Fence& fence);
  // Takes the next `count` values of a per-session counter under the fence and
  // returns the first one.
  int64_t allocate(const std::string& session_key, const Fence& fence, const char* statement,
                   int64_t count);
  void insert_submission(const std::string& session_key, const SubmissionRecord& record);
  void insert_entry(const std::string& session_key, const HistoryEntry& entry, int64_t position);
  void patch_entry(const std::string& session_key, const EntryPatch& patch);
  void patch_submission(const std::string& session_key, const SubmissionPatch& patch);

  pqxx::work work_;
  std::string& scratch_;
};

}  // namespace sluice::persistence::postgres
