#pragma once
// Versioned schema migrations for Postgres, recorded in schema_migrations like
// SQLite's (migrations.hpp). Several nodes may start at once against the same
// database: migrate() holds a transaction-scoped advisory lock while it reads
// the version and applies what is missing, so exactly one of them migrates and
// the others then find the schema up to date.
#include <span>
#include <vector>

#include <pqxx/connection>

#include "persistence/migrations.hpp"

namespace sluice::persistence::postgres {

// The Postgres migrations this binary ships, oldest first.
std::span<const Migration> builtin_migrations();

// Returns the versions applied by this call (empty when already up to date).
// Throws SchemaTooNewError for a database migrated past what this binary knows.
std::vector<int> migrate(pqxx::connection& connection,
                         std::span<const Migration> migrations = builtin_migrations());

std::vector<AppliedMigration> applied_migrations(pqxx::connection& connection);

}  // namespace sluice::persistence::postgres
