#include "persistence/sqlite_connection.hpp"

#include <sqlite3.h>

namespace sluice::persistence::sqlite {
namespace {

[[noreturn]] void fail(sqlite3* db, std::string_view context) {
  throw StorageFailure(std::string(context) + ": " + sqlite3_errmsg(db));
}

}  // namespace

Statement::~Statement() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Statement& Statement::bind(int index, int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail(db_, "bind");
  return *this;
}

Statement& Statement::bind(int index, const std::string& text) {
  if (sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC) !=
      SQLITE_OK) {
    fail(db_, "bind");
  }
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& text) {
  return text ? bind(index, *text) : bind_null(index);
}

Statement& Statement::bind_static(int index, const char* text) {
  if (sqlite3_bind_text(stmt_, index, text, -1, SQLITE_STATIC) != SQLITE_OK) fail(db_, "bind");
  return *this;
}

Statement& Statement::bind_blob(int index, const std::string& bytes) {
  if (sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()),
                        SQLITE_STATIC) != SQLITE_OK) {
    fail(db_, "bind");
  }
  return *this;
}

Statement& Statement::bind_null(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail(db_, "bind");
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, std::string_view(sqlite3_sql(stmt_)).substr(0, 80));
}

void Statement::run() {
  while (step()) {
  }
}

int Statement::changes() const {
  return sqlite3_changes(db_);
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (!data) return {};
  return std::string(data, static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

std::string_view Statement::blob(int column) const {
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  if (!data) return {};
  return {data, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
}

void Connection::Finalize::operator()(sqlite3_stmt* stmt) const {
  sqlite3_finalize(stmt);
}

Connection::Connection(const std::string& filename, int flags) {
  const int rc = sqlite3_open_v2(filename.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    throw StorageFailure("cannot open sqlite database " + filename + ": " + message);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() {
  cache_.clear();  // statements must be finalized before the connection closes
  sqlite3_close_v2(db_);
}

void Connection::exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    throw StorageFailure(message + " (in: " + sql.substr(0, 80) + ")");
  }
}

std::string Connection::query_text(const std::string& sql) {
  Statement statement = prepare(sql);
  return statement.step() ? statement.text(0) : std::string();
}

Statement Connection::prepare(std::string_view sql) {
  auto found = cache_.find(sql);
  if (found == cache_.end()) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &raw, nullptr) != SQLITE_OK) {
      fail(db_, "prepare " + std::string(sql.substr(0, 80)));
    }
    found = cache_.emplace(std::string(sql), std::unique_ptr<sqlite3_stmt, Finalize>(raw)).first;
  }
  // A statement still stepping belongs to an enclosing use of the same SQL;
  // handing it out again would silently reset that use.
  if (sqlite3_stmt_busy(found->second.get())) {
    throw StorageFailure("statement already in use: " + std::string(sql.substr(0, 80)));
  }
  return Statement(db_, found->second.get());
}

bool Connection::in_transaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

}  // namespace sluice::persistence::sqlite
