#include "persistence/postgres_database.hpp"

#include <algorithm>
#include <thread>
#include <utility>

#include <pqxx/except>

#include "persistence/postgres_migrations.hpp"
#include "persistence/postgres_statements.hpp"

namespace sluice::persistence {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Retries only what a server that is still starting (or briefly away) causes;
// libpq reports every failure to connect as broken_connection, and its message
// names the host and port but never the password.
std::unique_ptr<pqxx::connection> connect_with_retry(const std::string& url, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  milliseconds backoff(50);
  for (int attempt = 1;; ++attempt) {
    try {
      return std::make_unique<pqxx::connection>(url);
    } catch (const pqxx::broken_connection& e) {
      const auto now = Clock::now();
      if (now >= deadline) {
        std::string reason = e.what();
        while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) {
          reason.pop_back();
        }
        throw StorageFailure("cannot connect to postgres after " + std::to_string(attempt) +
                             " attempts over " + std::to_string(timeout.count()) +
                             " ms (SLUICE_DB_CONNECT_TIMEOUT_MS): " + reason);
      }
      std::this_thread::sleep_for(std::min<Clock::duration>(backoff, deadline - now));
      backoff = std::min(backoff * 2, milliseconds(2000));
    }
  }
}

}  // namespace

std::unique_ptr<PostgresDatabase> PostgresDatabase::connect(const std::string& url,
                                                            milliseconds connect_timeout) {
  auto connection = connect_with_retry(url, connect_timeout);
  return std::unique_ptr<PostgresDatabase>(new PostgresDatabase(std::move(connection)));
}

PostgresDatabase::PostgresDatabase(std::unique_ptr<pqxx::connection> connection)
    : connection_(std::move(connection)) {
  description_ = std::string("postgres database ") + connection_->dbname() + " on " +
                 connection_->hostname() + ":" + connection_->port();
  try {
    // Migrations say "already exists, skipping" as NOTICEs, which libpqxx would
    // print to stderr.
    connection_->set_variable("client_min_messages", "warning");
  } catch (const pqxx::failure& e) {
    throw StorageFailure(std::string("configuring the postgres connection failed: ") + e.what());
  }
  postgres::migrate(*connection_);
  postgres::prepare_statements(*connection_);
}

std::unique_ptr<Transaction> PostgresDatabase::begin() {
  if (std::exchange(batches_.run_next_directly, false)) {
    // That transaction writes without keeping the cache up to date.
    batches_.sessions.clear();
    return std::make_unique<postgres::PostgresTransaction>(*connection_, scratch_);
  }
  return std::make_unique<postgres::BatchTransaction>(*connection_, scratch_, batches_);
}

std::string PostgresDatabase::describe() const {
  return description_;
}

}  // namespace sluice::persistence
