#pragma once
// The storage contract. A Database hands out Transactions; every method of a
// Transaction runs on the storage thread (see executor.hpp), never on a CAF or
// io thread. SQLite implements it today; Postgres implements the same interface.
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "persistence/records.hpp"

namespace sluice::persistence {

// Thrown by a fenced write whose fence no longer matches the ownership record:
// the writer lost the session and must stop.
struct FencedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown when the database itself failed (I/O, connection lost, constraint bug).
struct StorageFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Transaction {
 public:
  virtual ~Transaction() = default;

  // Savepoints let one failed operation roll back without losing the batch.
  virtual void savepoint() = 0;
  virtual void release_savepoint() = 0;
  virtual void rollback_to_savepoint() = 0;
  virtual void commit() = 0;  // the transaction is finished afterwards

  // --- sessions and ownership -------------------------------------------------
  // Makes `me` the owner of the session (creating the session row if needed)
  // and increments its fencing epoch, unless another node holds it with a live
  // lease (its row in `nodes` has the owner's incarnation and has not expired):
  // then nothing changes and the result says who holds it. A holder gives a
  // session up with release_session or by losing its lease. Returns everything
  // the session actor needs to rehydrate.
  virtual ClaimResult claim_session(const SessionKey& key, const NodeIdentity& me) = 0;
  // Gives the session up (owner cleared); fenced.
  virtual void release_session(const SessionKey& key, const Fence& fence) = 0;

  // --- submissions -------------------------------------------------------------
  // Fenced. Checks the idempotency key (scoped to agent + instance), assigns the
  // next sequence, inserts the submission in state queued.
  virtual AdmitResult admit(const SessionKey& key, const Fence& fence,
                            const NewSubmission& submission) = 0;
  // Fenced. Applies all of it or throws.
  virtual std::vector<int64_t> mutate(const SessionKey& key, const Fence& fence,
                                      const SessionMutation& mutation) = 0;

  // --- reads (unfenced) ----------------------------------------------------------
  virtual std::optional<SubmissionRecord> get_submission(const std::string& agent,
                                                         const std::string& instance,
                                                         const std::string& submission_id) = 0;
  // In sequence order, sequence > page.after; state filter optional.
  virtual std::vector<SubmissionRecord> list_submissions(const SessionKey& key,
                                                         std::optional<SubmissionState> state,
                                                         const Page& page) = 0;
  // In position order, position > page.after.
  virtual std::vector<HistoryEntry> read_history(const SessionKey& key, const Page& page) = 0;

  // --- nodes and leases ------------------------------------------------------------
  // One lease per node incarnation, so renewal cost does not grow with sessions.
  virtual void register_node(const NodeIdentity& me, int64_t lease_ms) = 0;
  // False when the lease was lost: another incarnation replaced it, or it had
  // already expired (others may have taken this node's sessions meanwhile).
  virtual bool renew_lease(const NodeIdentity& me, int64_t lease_ms) = 0;
  virtual void deregister_node(const NodeIdentity& me) = 0;
  // Sessions with queued or running submissions whose owner is absent, released,
  // another incarnation of `me`, or a node whose lease has expired.
  virtual std::vector<SessionKey> orphaned_sessions(const NodeIdentity& me, int limit) = 0;
  // Every registered node, live or expired, by node id.
  virtual std::vector<NodeRecord> list_nodes() = 0;
  // Sessions owned and unsettled work per owning node (a full scan: for operators).
  virtual std::vector<NodeWorkload> node_workloads() = 0;
  // The sessions of one agent instance, by name (at most 1000).
  virtual std::vector<InstanceSession> instance_sessions(const std::string& agent,
                                                         const std::string& instance) = 0;

  // --- workflow runs ---------------------------------------------------------------
  // Inserts an active run (its next_event_index is 0) owned by run.owner_*.
  virtual void create_run(const RunRecord& run) = 0;
  // Appends events with the run's next indexes (returned in order) and, with an
  // ending, settles the run in the same transaction. Fenced on the owner: throws
  // FencedError unless the run is active and owned by `owner_incarnation`.
  virtual std::vector<int64_t> append_run_events(const std::string& run_id,
                                                 const std::string& owner_incarnation,
                                                 const std::vector<NewRunEvent>& events,
                                                 const std::optional<RunEnding>& ending) = 0;
  virtual std::optional<RunRecord> get_run(const std::string& run_id) = 0;
  // event_index > after, in index order, at most limit; types empty = all.
  virtual std::vector<StoredRunEvent> read_run_events(const std::string& run_id, int64_t after,
                                                      int limit,
                                                      const std::vector<std::string>& types) = 0;
  virtual std::vector<RunRecord> list_runs(const RunFilter& filter) = 0;
  // Active runs whose owner is gone: another incarnation of `me`, or a node
  // whose lease expired or that has no membership row. Oldest first.
  virtual std::vector<RunRecord> interrupted_runs(const NodeIdentity& me, int limit) = 0;

  // --- deletion and retention ------------------------------------------------------
  // Fenced. Deletes the session's submissions with sequence <= through_sequence,
  // their history entries and the idempotency keys that name them. The session
  // row (ownership, sequence counters) stays, so sequences are never reused.
  virtual void delete_session_data(const SessionKey& key, const Fence& fence,
                                   int64_t through_sequence) = 0;
  // Removes submissions settled before cutoff_ms, idempotency keys created
  // before it (or naming a removed submission), and runs ended before it with
  // their events. History is kept.
  virtual PurgeCounts purge_settled_before(int64_t cutoff_ms) = 0;
};

class Database {
 public:
  virtual ~Database() = default;
  // Opens a transaction on this thread's connection.
  virtual std::unique_ptr<Transaction> begin() = 0;
  // A short human description ("sqlite file /path", "sqlite in memory").
  virtual std::string describe() const = 0;
};

}  // namespace sluice::persistence
