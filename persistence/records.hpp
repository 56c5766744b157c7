#pragma once
// Durable records: what a session, a submission and a history entry hold.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/session_key.hpp"

namespace sluice::persistence {

enum class SubmissionState { queued, running, completed, failed, aborted };
enum class SubmissionKind { direct, dispatch };

const char* to_string(SubmissionState state);
const char* to_string(SubmissionKind kind);
std::optional<SubmissionState> parse_submission_state(const std::string& text);
std::optional<SubmissionKind> parse_submission_kind(const std::string& text);
inline bool is_terminal(SubmissionState s) {
  return s == SubmissionState::completed || s == SubmissionState::failed ||
         s == SubmissionState::aborted;
}

// Who writes for a session: the owning node and the fencing epoch it was given
// when it claimed the session. A write carrying a stale fence is refused.
struct Fence {
  std::string owner;  // node id
  int64_t epoch = 0;
};

// A node's identity for one run of its process.
struct NodeIdentity {
  std::string node_id;
  std::string incarnation;  // new ULID at every start
  std::string advertise;    // host:port of the node-to-node listener ("" on one node)
};

struct SubmissionRecord {
  std::string id;           // sub_<ULID>
  std::string dispatch_id;  // dsp_<ULID> for dispatches, "" for direct prompts
  SessionKey key;
  SubmissionKind kind = SubmissionKind::direct;
  int64_t sequence = 0;
  SubmissionState state = SubmissionState::queued;
  std::string input_text;  // the user message text
  bool input_applied = false;
  int attempts = 0;
  bool abort_requested = false;
  bool released = false;  // released at a committed turn boundary, not yet resumed
  int64_t accepted_at_ms = 0;
  int64_t started_at_ms = 0;  // 0 = not started
  int64_t settled_at_ms = 0;  // 0 = not settled
  std::optional<std::string> result_json;  // JSON text of the result value
  std::optional<std::string> error_json;   // JSON text of the public error
  std::string last_owner;                   // node id that last ran it
  // Model tokens its turns used so far, as JSON text
  // {"inputTokens":n,"outputTokens":n}; absent until a turn finished.
  std::optional<std::string> usage_json;
};

enum class EntryStatus { complete, partial, interrupted };
const char* to_string(EntryStatus status);
std::optional<EntryStatus> parse_entry_status(const std::string& text);

struct HistoryEntry {
  int64_t position = 0;  // 1, 2, 3... within the session; assigned by the store
  int64_t sequence = 0;  // the sequence of the submission that wrote it
  std::string submission_id;
  // user, assistant, tool_call, tool_result, interruption, compaction
  std::string type;
  int64_t timestamp_ms = 0;
  EntryStatus status = EntryStatus::complete;
  std::string text;
  std::string tool_name;
  std::string tool_call_id;
  std::string args_json;    // JSON text, "" when absent; compaction: {"through": position}
  std::string result_json;  // JSON text, "" when absent
  bool is_error = false;
};

// Idempotency: a key scoped to its agent instance, with a hash of the canonical
// request body so a reuse with another body is detected.
struct IdempotencyClaim {
  std::string key;
  std::string body_hash;
};

struct NewSubmission {
  std::string id;
  std::string dispatch_id;
  SubmissionKind kind = SubmissionKind::direct;
  std::string input_text;
  int64_t accepted_at_ms = 0;
  std::optional<IdempotencyClaim> idempotency;
};

enum class AdmitStatus { admitted, replayed, idempotency_conflict };

struct AdmitResult {
  AdmitStatus status = AdmitStatus::admitted;
  SubmissionRecord record;  // the new one, or the original one for a replay
};

// Changes to one submission; unset fields stay as they are.
struct SubmissionPatch {
  std::string id;
  std::optional<SubmissionState> state;
  std::optional<bool> input_applied;
  std::optional<int> attempts;
  std::optional<bool> abort_requested;
  std::optional<bool> released;
  std::optional<int64_t> started_at_ms;
  std::optional<int64_t> settled_at_ms;
  std::optional<std::string> result_json;
  std::optional<std::string> error_json;
  std::optional<std::string> last_owner;
  std::optional<std::string> usage_json;
};

struct EntryPatch {
  int64_t position = 0;
  EntryStatus status = EntryStatus::complete;
};

// One atomic, fenced change to a session: entries appended (positions are
// assigned by the store, in order), entries re-marked, submissions patched.
struct SessionMutation {
  std::vector<HistoryEntry> append;
  std::vector<EntryPatch> entry_patches;
  std::vector<SubmissionPatch> patches;
};

struct ClaimResult {
  // False when another node holds the session and its lease is live: nothing
  // changed, and `holder` names that node. The other fields are then empty.
  bool granted = true;
  std::string holder;
  int64_t epoch = 0;
  int64_t next_sequence = 1;  // the sequence the next admission will get
  int64_t history_length = 0;
  // queued and running submissions in sequence order
  std::vector<SubmissionRecord> unsettled;
  // every history entry written by a running submission (for recovery decisions)
  std::vector<HistoryEntry> running_entries;
};

// A row of the membership table: one per node id, replaced by each new
// incarnation. The lease is renewed by the node's coordinator.
struct NodeRecord {
  std::string node_id;
  std::string incarnation;
  std::string advertise;
  int64_t lease_expires_at_ms = 0;
  int64_t registered_at_ms = 0;
};

// How much a node holds, for the operators' view of the cluster.
struct NodeWorkload {
  std::string node_id;
  int64_t sessions_owned = 0;
  int64_t unsettled = 0;  // queued + running submissions of the sessions it owns
};

// One session of an agent instance, for operators.
struct InstanceSession {
  std::string session;
  std::string owner_node;  // "" when nobody holds it
  int64_t queue_depth = 0;  // queued + running submissions
  bool running = false;
  std::string last_outcome;  // state of the latest settled submission, "" if none
};

// --- workflow runs ------------------------------------------------------------

enum class RunStatus { active, completed, errored };
const char* to_string(RunStatus status);
std::optional<RunStatus> parse_run_status(const std::string& text);

// One workflow run. The node running it owns it (owner_node + incarnation) and
// is the only writer of its events until it ends; a run whose owner is gone is
// ended by the coordinator of another live node (never replayed).
struct RunRecord {
  std::string run_id;  // workflow:<name>:<ULID>
  std::string workflow_name;
  RunStatus status = RunStatus::active;
  std::string payload_json;  // JSON text of the payload ("null" when none)
  int64_t started_at_ms = 0;
  int64_t ended_at_ms = 0;  // 0 while active
  bool is_error = false;
  std::optional<std::string> result_json;  // JSON text, when completed
  std::optional<std::string> error_json;   // JSON text of the public error, when errored
  std::string owner_node;
  std::string owner_incarnation;
  int64_t next_event_index = 0;  // the index the next event gets (assigned by the store)
};

// An event to append; the store gives it the run's next index.
struct NewRunEvent {
  std::string type;
  int64_t timestamp_ms = 0;
  std::string data_json;  // the whole event object as JSON text, without eventIndex
};

struct StoredRunEvent {
  int64_t event_index = 0;  // 0, 1, 2... within the run, never reused
  std::string type;
  int64_t timestamp_ms = 0;
  std::string data_json;
};

// How a run ends: written with its last events, in the same transaction.
struct RunEnding {
  bool is_error = false;
  std::optional<std::string> result_json;
  std::optional<std::string> error_json;
  int64_t ended_at_ms = 0;
};

// GET /admin/runs: newest first (started_at_ms desc, run_id desc); the cursor
// is the (started_at_ms, run_id) of the last run of the previous page, so a
// page is stable while new runs arrive.
struct RunCursor {
  int64_t started_at_ms = 0;
  std::string run_id;
};
struct RunFilter {
  std::optional<RunStatus> status;
  std::optional<std::string> workflow_name;
  std::optional<RunCursor> before;
  int limit = 50;
};

// --- deletion and retention ---------------------------------------------------

// What a retention pass removed.
struct PurgeCounts {
  int64_t submissions = 0;
  int64_t idempotency_keys = 0;
  int64_t runs = 0;
  int64_t run_events = 0;
};

struct Page {
  int64_t after = 0;
  int limit = 100;
};

}  // namespace sluice::persistence
