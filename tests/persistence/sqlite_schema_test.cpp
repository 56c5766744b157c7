// SQLite specifics: migrations, connection settings and query plans.
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "persistence/migrations.hpp"
#include "persistence/sqlite_database.hpp"
#include "persistence/sqlite_queries.hpp"
#include "tests/support/temp_dir.hpp"

namespace sluice::persistence {
namespace {

constexpr int kOpenFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

std::vector<int> versions(sqlite::Connection& db) {
  std::vector<int> out;
  for (const AppliedMigration& m : applied_migrations(db)) out.push_back(m.version);
  return out;
}

TEST_CASE("reopening a file applies no migration twice", "[sqlite][migrations]") {
  const test::TempDir dir;
  const std::string path = (dir / "sluice.db").string();
  std::vector<AppliedMigration> first;
  {
    auto db = SqliteDatabase::open_file(path);
    first = applied_migrations(db->connection());
  }
  REQUIRE(first.size() == builtin_migrations().size());
  CHECK(first.front().version == 1);

  auto reopened = SqliteDatabase::open_file(path);
  const auto again = applied_migrations(reopened->connection());
  REQUIRE(again.size() == first.size());
  CHECK(again.front().applied_at_ms == first.front().applied_at_ms);
  sqlite::Connection raw(path, kOpenFlags);
  CHECK(migrate(raw).empty());
}

TEST_CASE("an older database gets only the migrations it lacks", "[sqlite][migrations]") {
  const test::TempDir dir;
  const std::string path = (dir / "sluice.db").string();
  sqlite::Connection db(path, kOpenFlags);
  CHECK(migrate(db) == std::vector<int>{1, 2, 3});

  std::vector<Migration> newer(builtin_migrations().begin(), builtin_migrations().end());
  newer.push_back({4, "a test column", "ALTER TABLE nodes ADD COLUMN zone TEXT"});
  CHECK(migrate(db, newer) == std::vector<int>{4});
  CHECK(migrate(db, newer).empty());
  CHECK(versions(db) == std::vector<int>{1, 2, 3, 4});
  CHECK(db.query_text("SELECT COUNT(*) FROM pragma_table_info('nodes') WHERE name = 'zone'") ==
        "1");
}

TEST_CASE("a failing migration leaves the database as it was", "[sqlite][migrations]") {
  const test::TempDir dir;
  sqlite::Connection db((dir / "sluice.db").string(), kOpenFlags);
  migrate(db);
  std::vector<Migration> broken(builtin_migrations().begin(), builtin_migrations().end());
  broken.push_back({4, "good", "CREATE TABLE extra (x INTEGER)"});
  broken.push_back({5, "bad", "CREATE TABLE nodes (x INTEGER)"});
  CHECK_THROWS_WITH(migrate(db, broken), Catch::Contains("migration 5 (bad) failed"));
  CHECK(versions(db) == std::vector<int>{1, 2, 3});
  CHECK(db.query_text("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'extra'") == "0");
}

TEST_CASE("a database migrated by a newer build is refused", "[sqlite][migrations]") {
  const test::TempDir dir;
  const std::string path = (dir / "sluice.db").string();
  {
    sqlite::Connection db(path, kOpenFlags);
    std::vector<Migration> future(builtin_migrations().begin(), builtin_migrations().end());
    future.push_back({99, "from the future", "CREATE TABLE future (x INTEGER)"});
    migrate(db, future);
  }
  CHECK_THROWS_AS(SqliteDatabase::open_file(path), SchemaTooNewError);
  CHECK_THROWS_WITH(SqliteDatabase::open_file(path),
                    Catch::Contains("version 99") && Catch::Contains("newer sluice"));
}

TEST_CASE("a file connection runs WAL with synchronous=FULL", "[sqlite][settings]") {
  const test::TempDir dir;
  const std::string path = (dir / "sluice.db").string();
  SqliteDatabase::open_file(path);
  auto db = SqliteDatabase::open_file(path);  // the settings hold on a reopen too
  CHECK(db->connection().query_text("PRAGMA journal_mode") == "wal");
  CHECK(db->connection().query_text("PRAGMA synchronous") == "2");
  CHECK(db->connection().query_text("PRAGMA busy_timeout") == "5000");
  CHECK(db->describe() == "sqlite file " + path);
  CHECK(SqliteDatabase::open_in_memory()->describe() == "sqlite in memory");
}

std::vector<std::string> plan_of(sqlite::Connection& db, const char* sql) {
  std::vector<std::string> details;
  sqlite::Statement plan = db.prepare(std::string("EXPLAIN QUERY PLAN ") + sql);
  while (plan.step()) details.push_back(plan.text(3));
  return details;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& needle) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& line) { return line.find(needle) != line.npos; });
}

TEST_CASE("hot reads never scan a whole table", "[sqlite][plans]") {
  auto db = SqliteDatabase::open_in_memory();
  const std::pair<const char*, const char*> cases[] = {
      {sqlite::queries::kUnsettledSubmissions, "submissions_unsettled"},
      {sqlite::queries::kOrphanedSessions, "submissions_unsettled"},
      {sqlite::queries::kEntriesOfSubmission, "history_by_submission"},
      {sqlite::queries::kSubmissionById, "sqlite_autoindex_submissions_1"},
      {sqlite::queries::kSubmissionOfInstance, "sqlite_autoindex_submissions_1"},
      {sqlite::queries::kListSubmissions, "sqlite_autoindex_submissions_2"},
      {sqlite::queries::kReadHistory, "sqlite_autoindex_history_1"},
      {sqlite::queries::kRunById, "PRIMARY KEY"},
      {sqlite::queries::kListRuns, "runs_newest"},
      {sqlite::queries::kListRunsByStatus, "runs_by_status"},
      {sqlite::queries::kListRunsByWorkflow, "runs_by_workflow"},
      {sqlite::queries::kListRunsByWorkflowStatus, "runs_by_workflow_status"},
      {sqlite::queries::kInterruptedRuns, "runs_by_status"},
      {sqlite::queries::kReadRunEvents, "PRIMARY KEY (run_id=? AND event_index>?)"},
  };
  for (const auto& [sql, index] : cases) {
    const auto plan = plan_of(db->connection(), sql);
    INFO(sql);
    for (const auto& line : plan) {
      INFO(line);
      // A SCAN is a walk over a whole table or index; only the partial index of
      // unsettled work may be walked, and the list of wanted event types
      // (json_each, a virtual table over the bound parameter).
      CHECK((line.rfind("SCAN", 0) != 0 || line.find("submissions_unsettled") != line.npos ||
             line.find("SCAN json_each VIRTUAL TABLE") == 0));
    }
    CHECK(any_contains(plan, index));
  }
}

TEST_CASE("deletion and retention find their rows through indexes", "[sqlite][plans]") {
  auto db = SqliteDatabase::open_in_memory();
  const std::pair<const char*, std::vector<const char*>> cases[] = {
      {sqlite::queries::kPurgeKeys,
       {"idempotency_keys_by_age", "submissions_settled", "idempotency_keys_by_submission"}},
      {sqlite::queries::kPurgeSubmissions, {"submissions_settled"}},
      {sqlite::queries::kPurgeRunEvents, {"runs_ended", "PRIMARY KEY (run_id=?)"}},
      {sqlite::queries::kPurgeRuns, {"runs_ended"}},
      {sqlite::queries::kDeleteSessionKeys,
       {"idempotency_keys_by_submission", "sqlite_autoindex_submissions_2"}},
      {sqlite::queries::kDeleteSessionHistory, {"sqlite_autoindex_history_1 (session_key=?)"}},
      {sqlite::queries::kDeleteSessionSubmissions, {"sqlite_autoindex_submissions_2"}},
  };
  for (const auto& [sql, indexes] : cases) {
    const auto plan = plan_of(db->connection(), sql);
    INFO(sql);
    for (const auto& line : plan) {
      INFO(line);
      CHECK(line.rfind("SCAN", 0) != 0);
    }
    for (const char* index : indexes) CHECK(any_contains(plan, index));
  }
}

}  // namespace
}  // namespace sluice::persistence
