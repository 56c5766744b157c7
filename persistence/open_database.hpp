#pragma once
// DATABASE_URL -> a Database. "" = in-memory SQLite; a file path or
// sqlite:///abs/path = file SQLite (WAL, synchronous=FULL); postgres:// or
// postgresql:// = Postgres, retrying the connection for up to
// SLUICE_DB_CONNECT_TIMEOUT_MS (default 30000). Migrations run on open.
#include <memory>
#include <string>

#include "persistence/store.hpp"

namespace sluice::persistence {

struct DatabaseUrlError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::unique_ptr<Database> open_database(const std::string& database_url);
bool is_in_memory(const std::string& database_url);

}  // namespace sluice::persistence
