#include "persistence/postgres_transaction.hpp"

namespace sluice::persistence::postgres {
namespace {

pqxx::work begin_work(pqxx::connection& connection) {
  try {
    return pqxx::work(connection);
  } catch (const pqxx::failure& e) {
    throw StorageFailure(std::string("postgres BEGIN: ") + e.what());
  }
}

}  // namespace

PostgresTransaction::PostgresTransaction(pqxx::connection& connection, std::string& scratch)
    : work_(begin_work(connection)), scratch_(scratch) {}

void PostgresTransaction::exec(const char* sql) {
  try {
    work_.exec0(sql);
  } catch (const pqxx::failure& e) {
    throw StorageFailure(std::string("postgres ") + sql + ": " + e.what());
  }
}

void PostgresTransaction::savepoint() {
  exec("SAVEPOINT job");
}

void PostgresTransaction::release_savepoint() {
  exec("RELEASE SAVEPOINT job");
}

void PostgresTransaction::rollback_to_savepoint() {
  exec("ROLLBACK TO SAVEPOINT job");
  exec("RELEASE SAVEPOINT job");
}

void PostgresTransaction::commit() {
  try {
    work_.commit();
  } catch (const pqxx::failure& e) {
    throw StorageFailure(std::string("postgres COMMIT: ") + e.what());
  }
}

}  // namespace sluice::persistence::postgres
