#pragma once
// The SQLite Database: one connection, opened, configured and migrated by the
// constructor, then used only by whoever runs its transactions (the storage
// thread). Files use WAL with synchronous=FULL: a commit is durable once it
// returns, and batching many jobs per commit is what keeps that affordable.
#include <memory>
#include <string>

#include "persistence/sqlite_connection.hpp"
#include "persistence/store.hpp"

namespace sluice::persistence {

class SqliteDatabase final : public Database {
 public:
  // The folder must exist; the file is created when missing.
  static std::unique_ptr<SqliteDatabase> open_file(const std::string& path);
  static std::unique_ptr<SqliteDatabase> open_in_memory();

  std::unique_ptr<Transaction> begin() override;
  std::string describe() const override;

  // The raw connection, for schema checks in tests and the storage benchmark.
  sqlite::Connection& connection() { return connection_; }

 private:
  SqliteDatabase(const std::string& filename, std::string description);

  sqlite::Connection connection_;
  std::string description_;
  std::string scratch_;  // payload encoding buffer reused by every transaction
};

}  // namespace sluice::persistence
