#pragma once
// The Postgres Database: one connection, opened, configured and migrated by
// connect(), then used only by whoever runs its transactions (the storage
// thread). Every commit is durable when it returns (synchronous_commit stays
// at the server's default); group commit amortises the round trip and fsync,
// and the batch transaction (postgres_batch_transaction.hpp) the round trips
// of the batch's writes.
#include <chrono>
#include <memory>
#include <string>

#include <pqxx/connection>

#include "persistence/postgres_batch_transaction.hpp"
#include "persistence/store.hpp"

namespace sluice::persistence {

class PostgresDatabase final : public Database {
 public:
  // Connects to `url` (a libpq URI), retrying with backoff while the server
  // cannot be reached, for up to `connect_timeout`; then migrates. Messages
  // never contain the URL, which may carry a password.
  static std::unique_ptr<PostgresDatabase> connect(const std::string& url,
                                                   std::chrono::milliseconds connect_timeout);

  // A BatchTransaction, except right after one gave up on its batch: then a
  // statement-by-statement PostgresTransaction, for the executor's second run.
  std::unique_ptr<Transaction> begin() override;
  std::string describe() const override;

  // The raw connection, for schema checks in tests.
  pqxx::connection& connection() { return *connection_; }

 private:
  explicit PostgresDatabase(std::unique_ptr<pqxx::connection> connection);

  std::unique_ptr<pqxx::connection> connection_;
  std::string description_;
  std::string scratch_;  // payload encoding buffer reused by every transaction
  postgres::BatchMemory batches_;
};

}  // namespace sluice::persistence
