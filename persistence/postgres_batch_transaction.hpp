#pragma once
// The Postgres Transaction a batch normally runs in. Statement by statement,
// every operation costs a network round trip, and every job two more for its
// savepoint; that held a node to a few thousand admissions per second. Here,
// admit and mutate only queue their rows, answering from what the connection
// knows of the session (SessionCache: owner, epoch, next sequence and
// position), and flush() sends everything queued as one statement that
// re-checks, under the row locks, that each session written is still exactly as
// assumed. A batch of a thousand admissions costs two round trips: the flush
// and COMMIT.
//
// A savepoint is a mark in the queue: a failing job's rows are dropped before
// they reach the server. Everything else (claims, releases, reads, nodes)
// flushes the queue, then runs statement by statement in the
// PostgresTransaction underneath.
//
// When an assumption proves wrong (another connection claimed or wrote a
// session, a patch matched no row, a constraint or other server error, or a job
// failed after its writes had reached the server), nothing of the batch may
// commit, yet its other jobs must not fail with it: the call throws RetryBatch
// (executor.hpp), every later call and commit() too, and the next transaction
// of the connection is a PostgresTransaction in which the executor runs the
// batch again, each job under a real savepoint. So through the executor every
// job gets exactly what the statement-by-statement transaction would give it.
// Used directly, without that second run, what only the server can find out
// (a fence made stale through another connection, a constraint, a patch that
// matches no row) fails a later call or commit() with RetryBatch instead of the
// write that caused it. A node writes through one connection, whose own claims
// keep its cache exact, so a stale fence is found at once unless another node
// took the session over.
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "persistence/postgres_pending_writes.hpp"
#include "persistence/postgres_session_cache.hpp"
#include "persistence/postgres_transaction.hpp"

namespace sluice::persistence::postgres {

// What a connection's batch transactions share across commits.
struct BatchMemory {
  SessionCache sessions;
  // Set when a batch gave up: the connection's next transaction runs it again
  // statement by statement.
  bool run_next_directly = false;
};

class BatchTransaction final : public Transaction {
 public:
  BatchTransaction(pqxx::connection& connection, std::string& scratch, BatchMemory& memory);

  void savepoint() override;
  void release_savepoint() override;
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
  // What this transaction knows of one session.
  struct SessionView {
    SessionState state;  // as this transaction sees it
    // The counters the row must still hold when the next flush writes it.
    int64_t stored_sequence = 1;
    int64_t stored_position = 1;
    // Read under lock or written by this transaction: `state` is the truth
    // until commit, so a fence that differs from it is stale for sure.
    bool locked = false;
    bool written = false;  // queued writes rely on it: the next flush checks and stores it
  };

  // From this transaction, else from the cache, else nullptr.
  SessionView* view(const std::string& session_key);
  // The session as `fence` may write it; throws FencedError if the fence is stale.
  SessionView& fenced_view(const std::string& session_key, const Fence& fence);
  SessionView& set_view(const std::string& session_key, const SessionState& state);
  // Records the session's view for undoing, when inside a job.
  void remember(const std::string& session_key);
  // The replay or conflict an idempotency key calls for, if it was used before:
  // known from the queue, else asked of the server (a round trip per keyed
  // admission, which the flush could only check later by failing the batch).
  std::optional<AdmitResult> admitted_before(const SessionKey& key, const IdempotencyClaim& claim);

  // Sends every queued row and checks the sessions they rely on.
  void flush();
  // Flushes, then runs `work` on the PostgresTransaction underneath.
  template <class Work>
  auto direct(Work&& work, bool writes);
  // Runs `work`, giving up on the batch if the server failed it.
  template <class Work>
  auto on_server(Work&& work);
  [[noreturn]] void give_up(const std::string& reason);
  void check_usable() const;

  PostgresTransaction direct_;
  std::string& scratch_;
  BatchMemory& memory_;
  std::unordered_map<std::string, SessionView> sessions_;
  PendingWrites pending_;
  std::optional<std::string> gave_up_;  // why, once the batch must run again

  // The job between savepoint() and its release or rollback.
  bool in_job_ = false;
  bool job_reached_server_ = false;  // its writes left the queue: only the server could undo them
  PendingWrites::Mark job_mark_;
  std::vector<std::pair<std::string, std::optional<SessionView>>> job_undo_;
};

}  // namespace sluice::persistence::postgres
