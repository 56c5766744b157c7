#pragma once
// Versioned schema migrations. A database records what it has applied in
// schema_migrations(version, applied_at_ms); opening it applies only the missing
// versions, all in one transaction, and refuses a database that a newer build
// has migrated past what this binary knows.
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "persistence/sqlite_connection.hpp"
#include "persistence/store.hpp"

namespace sluice::persistence {

struct Migration {
  int version;  // ascending, never reused
  std::string_view description;
  std::string_view sql;
};

struct AppliedMigration {
  int version = 0;
  int64_t applied_at_ms = 0;
};

struct SchemaTooNewError : StorageFailure {
  using StorageFailure::StorageFailure;
};

// The migrations this binary ships, oldest first.
std::span<const Migration> builtin_migrations();

// Returns the versions applied by this call (empty when already up to date).
std::vector<int> migrate(sqlite::Connection& db,
                         std::span<const Migration> migrations = builtin_migrations());

std::vector<AppliedMigration> applied_migrations(sqlite::Connection& db);

}  // namespace sluice::persistence
