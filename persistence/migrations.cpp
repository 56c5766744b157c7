#include "persistence/migrations.hpp"

#include <algorithm>
#include <string>

#include "core/clock.hpp"

namespace sluice::persistence {
namespace {

// Schema version 1.
//
// sessions: one row per session key (SessionKey::str()), holding ownership (the
//   owner node and its incarnation; NULL when released), the fencing epoch and
//   the next sequence / history position to hand out.
// submissions: every admitted input. `input` is a versioned msgpack payload
//   (payload_codec.hpp); started/settled_at_ms are 0 until they happen;
//   dispatch_id and last_owner are NULL until they exist. The partial index
//   holds only queued/running rows, so claiming a session and the orphan scan
//   never walk settled history.
// history: the durable conversation, one row per entry; `payload` is a versioned
//   msgpack map of the entry's content. Indexed by submission so a claim finds
//   the entries of running submissions directly.
// idempotency_keys: scoped to the agent instance, as the protocol says.
// nodes: one row per node id; a new incarnation replaces the previous one.
//
// No foreign keys: every write goes through the fenced session row, which is what
// keeps submissions and history attached to a live session, and enforcing them
// would add a parent lookup to every insert on the hot path.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE sessions (
  session_key TEXT PRIMARY KEY,
  agent TEXT NOT NULL,
  instance TEXT NOT NULL,
  session TEXT NOT NULL,
  owner_node TEXT,
  owner_incarnation TEXT,
  epoch INTEGER NOT NULL DEFAULT 0,
  next_sequence INTEGER NOT NULL DEFAULT 1,
  next_position INTEGER NOT NULL DEFAULT 1,
  created_at_ms INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE submissions (
  id TEXT PRIMARY KEY,
  session_key TEXT NOT NULL,
  agent TEXT NOT NULL,
  instance TEXT NOT NULL,
  session TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  kind TEXT NOT NULL,
  dispatch_id TEXT,
  state TEXT NOT NULL,
  input BLOB NOT NULL,
  input_applied INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  abort_requested INTEGER NOT NULL DEFAULT 0,
  released INTEGER NOT NULL DEFAULT 0,
  accepted_at_ms INTEGER NOT NULL,
  started_at_ms INTEGER NOT NULL DEFAULT 0,
  settled_at_ms INTEGER NOT NULL DEFAULT 0,
  result_json TEXT,
  error_json TEXT,
  last_owner TEXT,
  UNIQUE (session_key, sequence)
);
CREATE INDEX submissions_unsettled ON submissions (session_key, sequence)
  WHERE state IN ('queued', 'running');

CREATE TABLE history (
  session_key TEXT NOT NULL,
  position INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  submission_id TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  payload BLOB NOT NULL,
  PRIMARY KEY (session_key, position)
);
CREATE INDEX history_by_submission ON history (submission_id, position);

CREATE TABLE idempotency_keys (
  agent TEXT NOT NULL,
  instance TEXT NOT NULL,
  key TEXT NOT NULL,
  body_hash TEXT NOT NULL,
  submission_id TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (agent, instance, key)
) WITHOUT ROWID;

CREATE TABLE nodes (
  node_id TEXT PRIMARY KEY,
  incarnation TEXT NOT NULL,
  advertise TEXT NOT NULL,
  lease_expires_at_ms INTEGER NOT NULL,
  registered_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Version 2: the model tokens a submission used; an instance's sessions.
constexpr const char* kSchemaV2 =
    "ALTER TABLE submissions ADD COLUMN usage_json TEXT;"
    "CREATE INDEX sessions_by_instance ON sessions (agent, instance, session);";

// Version 3: workflow runs and their events, and what retention needs.
//
// runs: one row per workflow run; owner_node/owner_incarnation fence its event
//   writes; next_event_index is the index its next event gets. Listing walks
//   (started_at_ms, run_id) backwards (newest first), with or without a status
//   and a workflow filter, each on an index whose prefix is the filter; the
//   scan for interrupted runs walks runs_by_status at status 'active'.
// run_events: the events of a run, by index.
// The other indexes let a retention pass find what is old without a full scan:
//   settled submissions by settled_at_ms, keys by age and by the submission
//   they name (also what deleting a session's data looks up), ended runs by
//   ended_at_ms. idempotency_keys.created_at_ms exists since version 1.
constexpr std::string_view kSchemaV3 = R"sql(
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  workflow_name TEXT NOT NULL,
  status TEXT NOT NULL,
  payload_json TEXT NOT NULL,
  started_at_ms INTEGER NOT NULL,
  ended_at_ms INTEGER NOT NULL DEFAULT 0,
  is_error INTEGER NOT NULL DEFAULT 0,
  result_json TEXT,
  error_json TEXT,
  owner_node TEXT NOT NULL,
  owner_incarnation TEXT NOT NULL,
  next_event_index INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX runs_newest ON runs (started_at_ms, run_id);
CREATE INDEX runs_by_status ON runs (status, started_at_ms, run_id);
CREATE INDEX runs_by_workflow ON runs (workflow_name, started_at_ms, run_id);
CREATE INDEX runs_by_workflow_status ON runs (workflow_name, status, started_at_ms, run_id);
CREATE INDEX runs_ended ON runs (ended_at_ms) WHERE status <> 'active';

CREATE TABLE run_events (
  run_id TEXT NOT NULL,
  event_index INTEGER NOT NULL,
  type TEXT NOT NULL,
  timestamp_ms INTEGER NOT NULL,
  data_json TEXT NOT NULL,
  PRIMARY KEY (run_id, event_index)
) WITHOUT ROWID;

CREATE INDEX submissions_settled ON submissions (settled_at_ms)
  WHERE state IN ('completed', 'failed', 'aborted');
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at_ms);
CREATE INDEX idempotency_keys_by_submission ON idempotency_keys (submission_id);
)sql";

constexpr Migration kMigrations[] = {
    {1, "sessions, submissions, history, idempotency keys, nodes", kSchemaV1},
    {2, "token usage of submissions, sessions by instance", kSchemaV2},
    {3, "workflow runs and events, retention indexes", kSchemaV3},
};

int current_version(sqlite::Connection& db) {
  sqlite::Statement statement =
      db.prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  statement.step();
  return static_cast<int>(statement.int64(0));
}

std::vector<int> apply_missing(sqlite::Connection& db, std::span<const Migration> migrations) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      "version INTEGER PRIMARY KEY, applied_at_ms INTEGER NOT NULL)");
  const int current = current_version(db);
  const int newest = migrations.empty() ? 0 : migrations.back().version;
  if (current > newest) {
    throw SchemaTooNewError("database schema is at version " + std::to_string(current) +
                            " but this build knows versions up to " + std::to_string(newest) +
                            ": it was migrated by a newer sluice; upgrade this binary");
  }
  std::vector<int> applied;
  for (const Migration& migration : migrations) {
    if (migration.version <= current) continue;
    try {
      db.exec(std::string(migration.sql));
    } catch (const StorageFailure& e) {
      throw StorageFailure("migration " + std::to_string(migration.version) + " (" +
                           std::string(migration.description) + ") failed: " + e.what());
    }
    const int64_t version = migration.version;
    const int64_t now = now_ms();
    db.prepare("INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?1, ?2)")
        .bind(1, version)
        .bind(2, now)
        .run();
    applied.push_back(migration.version);
  }
  return applied;
}

}  // namespace

std::span<const Migration> builtin_migrations() {
  return kMigrations;
}

std::vector<int> migrate(sqlite::Connection& db, std::span<const Migration> migrations) {
  // IMMEDIATE takes the write lock first, so two processes opening the same file
  // cannot both decide a version is missing.
  db.exec("BEGIN IMMEDIATE");
  try {
    std::vector<int> applied = apply_missing(db, migrations);
    db.exec("COMMIT");
    return applied;
  } catch (...) {
    if (db.in_transaction()) db.exec("ROLLBACK");
    throw;
  }
}

std::vector<AppliedMigration> applied_migrations(sqlite::Connection& db) {
  std::vector<AppliedMigration> out;
  sqlite::Statement statement =
      db.prepare("SELECT version, applied_at_ms FROM schema_migrations ORDER BY version");
  while (statement.step()) {
    out.push_back({static_cast<int>(statement.int64(0)), statement.int64(1)});
  }
  return out;
}

}  // namespace sluice::persistence
