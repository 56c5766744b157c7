#include "persistence/postgres_migrations.hpp"

#include <string>

#include <pqxx/pqxx>

#include "core/clock.hpp"

namespace sluice::persistence::postgres {
namespace {

// Schema version 1: the tables of SQLite's version 1 (see migrations.cpp for what
// each holds), in Postgres types. session_key uses the "C" collation so that
// ordering by it is bytewise, as in SQLite, whatever the database's locale.
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE sessions (
  session_key TEXT COLLATE "C" PRIMARY KEY,
  agent TEXT NOT NULL,
  instance TEXT NOT NULL,
  session TEXT NOT NULL,
  owner_node TEXT,
  owner_incarnation TEXT,
  epoch BIGINT NOT NULL DEFAULT 0,
  next_sequence BIGINT NOT NULL DEFAULT 1,
  next_position BIGINT NOT NULL DEFAULT 1,
  created_at_ms BIGINT NOT NULL
);

CREATE TABLE submissions (
  id TEXT PRIMARY KEY,
  session_key TEXT COLLATE "C" NOT NULL,
  agent TEXT NOT NULL,
  instance TEXT NOT NULL,
  session TEXT NOT NULL,
  sequence BIGINT NOT NULL,
  kind TEXT NOT NULL,
  dispatch_id TEXT,
  state TEXT NOT NULL,
  input BYTEA NOT NULL,
  input_applied BOOLEAN NOT NULL DEFAULT FALSE,
  attempts BIGINT NOT NULL DEFAULT 0,
  abort_requested BOOLEAN NOT NULL DEFAULT FALSE,
  released BOOLEAN NOT NULL DEFAULT FALSE,
  accepted_at_ms BIGINT NOT NULL,
  started_at_ms BIGINT NOT NULL DEFAULT 0,
  settled_at_ms BIGINT NOT NULL DEFAULT 0,
  result_json TEXT,
  error_json TEXT,
  last_owner TEXT,
  UNIQUE (session_key, sequence)
);
CREATE INDEX submissions_unsettled ON submissions (session_key, sequence)
  WHERE state IN ('queued', 'running');

CREATE TABLE history (
  session_key TEXT COLLATE "C" NOT NULL,
  position BIGINT NOT NULL,
  sequence BIGINT NOT NULL,
  submission_id TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  timestamp_ms BIGINT NOT NULL,
  payload BYTEA NOT NULL,
  PRIMARY KEY (session_key, position)
);
CREATE INDEX history_by_submission ON history (submission_id, position);

CREATE TABLE idempotency_keys (
  agent TEXT NOT NULL,
  instance TEXT NOT NULL,
  key TEXT NOT NULL,
  body_hash TEXT NOT NULL,
  submission_id TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY (agent, instance, key)
);

CREATE TABLE nodes (
  node_id TEXT PRIMARY KEY,
  incarnation TEXT NOT NULL,
  advertise TEXT NOT NULL,
  lease_expires_at_ms BIGINT NOT NULL,
  registered_at_ms BIGINT NOT NULL
);
)sql";

// Version 2: the model tokens a submission used; an instance's sessions.
constexpr const char* kSchemaV2 =
    "ALTER TABLE submissions ADD COLUMN usage_json TEXT;"
    "CREATE INDEX sessions_by_instance ON sessions (agent, instance, session);";

// Version 3: the tables and indexes of SQLite's version 3 (see migrations.cpp).
// run_id uses the "C" collation so that paging by it is bytewise, as in SQLite.
constexpr std::string_view kSchemaV3 = R"sql(
CREATE TABLE runs (
  run_id TEXT COLLATE "C" PRIMARY KEY,
  workflow_name TEXT NOT NULL,
  status TEXT NOT NULL,
  payload_json TEXT NOT NULL,
  started_at_ms BIGINT NOT NULL,
  ended_at_ms BIGINT NOT NULL DEFAULT 0,
  is_error BOOLEAN NOT NULL DEFAULT FALSE,
  result_json TEXT,
  error_json TEXT,
  owner_node TEXT NOT NULL,
  owner_incarnation TEXT NOT NULL,
  next_event_index BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX runs_newest ON runs (started_at_ms, run_id);
CREATE INDEX runs_by_status ON runs (status, started_at_ms, run_id);
CREATE INDEX runs_by_workflow ON runs (workflow_name, started_at_ms, run_id);
CREATE INDEX runs_by_workflow_status ON runs (workflow_name, status, started_at_ms, run_id);
CREATE INDEX runs_ended ON runs (ended_at_ms) WHERE status <> 'active';

CREATE TABLE run_events (
  run_id TEXT COLLATE "C" NOT NULL,
  event_index BIGINT NOT NULL,
  type TEXT NOT NULL,
  timestamp_ms BIGINT NOT NULL,
  data_json TEXT NOT NULL,
  PRIMARY KEY (run_id, event_index)
);

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

// Any fixed key will do, as long as every sluice build uses the same one.
constexpr int64_t kMigrationLockKey = 0x736c756963650001;  // "sluice" + 1

std::vector<int> apply_missing(pqxx::work& txn, std::span<const Migration> migrations) {
  txn.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")");
  txn.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      "version INTEGER PRIMARY KEY, applied_at_ms BIGINT NOT NULL)");
  const int current =
      txn.exec1("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0].as<int>();
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
      txn.exec(std::string(migration.sql));
    } catch (const pqxx::failure& e) {
      throw StorageFailure("migration " + std::to_string(migration.version) + " (" +
                           std::string(migration.description) + ") failed: " + e.what());
    }
    txn.exec_params("INSERT INTO schema_migrations (version, applied_at_ms) VALUES ($1, $2)",
                    migration.version, now_ms());
    applied.push_back(migration.version);
  }
  return applied;
}

}  // namespace

std::span<const Migration> builtin_migrations() {
  return kMigrations;
}

std::vector<int> migrate(pqxx::connection& connection, std::span<const Migration> migrations) {
  try {
    pqxx::work txn(connection, "migrate");
    std::vector<int> applied = apply_missing(txn, migrations);
    txn.commit();
    return applied;
  } catch (const pqxx::failure& e) {
    throw StorageFailure(std::string("postgres migrations failed: ") + e.what());
  }
}

std::vector<AppliedMigration> applied_migrations(pqxx::connection& connection) {
  try {
    pqxx::read_transaction txn(connection);
    std::vector<AppliedMigration> out;
    for (const auto& row :
         txn.exec("SELECT version, applied_at_ms FROM schema_migrations ORDER BY version")) {
      out.push_back({row[0].as<int>(), row[1].as<int64_t>()});
    }
    return out;
  } catch (const pqxx::failure& e) {
    throw StorageFailure(std::string("reading postgres schema_migrations failed: ") + e.what());
  }
}

}  // namespace sluice::persistence::postgres
