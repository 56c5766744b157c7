#include "persistence/sqlite_database.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include "persistence/migrations.hpp"
#include "persistence/sqlite_transaction.hpp"

namespace sluice::persistence {
namespace {

// NOMUTEX: the connection is only ever used by one thread at a time (the storage
// thread), so sqlite's per-call locking would be pure overhead.
constexpr int kOpenFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

// A new database file is created readable by its owner only (SQLite gives its
// -wal and -shm files the same mode): it holds every conversation. An existing
// file keeps the mode its owner chose.
void create_private(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) ::close(fd);
}

}  // namespace

std::unique_ptr<SqliteDatabase> SqliteDatabase::open_file(const std::string& path) {
  create_private(path);
  return std::unique_ptr<SqliteDatabase>(new SqliteDatabase(path, "sqlite file " + path));
}

std::unique_ptr<SqliteDatabase> SqliteDatabase::open_in_memory() {
  return std::unique_ptr<SqliteDatabase>(new SqliteDatabase(":memory:", "sqlite in memory"));
}

SqliteDatabase::SqliteDatabase(const std::string& filename, std::string description)
    : connection_(filename, kOpenFlags), description_(std::move(description)) {
  if (filename != ":memory:") {
    // journal_mode persists in the file but can silently stay "delete" (e.g. on a
    // filesystem without shared memory), so check what sqlite actually chose.
    const std::string mode = connection_.query_text("PRAGMA journal_mode = WAL");
    if (mode != "wal") {
      throw StorageFailure("sqlite file " + filename + " refused WAL mode (journal_mode=" + mode +
                           ")");
    }
    // synchronous is per connection, never stored in the file.
    connection_.exec("PRAGMA synchronous = FULL");
    connection_.exec("PRAGMA busy_timeout = 5000");
  }
  // Savepoint sub-journals stay in memory: every job of a batch opens one.
  connection_.exec("PRAGMA temp_store = MEMORY");
  connection_.exec("PRAGMA cache_size = -32768");  // 32 MiB
  migrate(connection_);
}

std::unique_ptr<Transaction> SqliteDatabase::begin() {
  return std::make_unique<sqlite::SqliteTransaction>(connection_, scratch_);
}

std::string SqliteDatabase::describe() const {
  return description_;
}

}  // namespace sluice::persistence
