#include "persistence/sqlite_transaction.hpp"

namespace sluice::persistence::sqlite {

SqliteTransaction::SqliteTransaction(Connection& db, std::string& scratch)
    : db_(db), scratch_(scratch) {
  db_.prepare("BEGIN IMMEDIATE").run();
}

SqliteTransaction::~SqliteTransaction() {
  if (finished_ || !db_.in_transaction()) return;
  try {
    db_.prepare("ROLLBACK").run();
  } catch (...) {
    // A destructor has no one to tell; the next BEGIN on this connection fails
    // loudly if the transaction is somehow still open.
  }
}

void SqliteTransaction::savepoint() {
  db_.prepare("SAVEPOINT job").run();
}

void SqliteTransaction::release_savepoint() {
  db_.prepare("RELEASE job").run();
}

void SqliteTransaction::rollback_to_savepoint() {
  db_.prepare("ROLLBACK TO job").run();
  db_.prepare("RELEASE job").run();
}

void SqliteTransaction::commit() {
  db_.prepare("COMMIT").run();
  finished_ = true;
}

}  // namespace sluice::persistence::sqlite
