#pragma once
// RAII over one sqlite3 connection and its prepared statements. Statements are
// prepared once per connection (SQLITE_PREPARE_PERSISTENT) and kept in a cache
// keyed by their SQL text; a Statement borrows one for a single use and resets it
// when it goes out of scope, so no read is ever left open across a COMMIT.
// Every sqlite error becomes a StorageFailure carrying sqlite's own message.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "persistence/store.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace sluice::persistence::sqlite {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) noexcept : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Text and blobs are bound without copying: the bound string must outlive the
  // Statement. Binding a temporary would dangle, so those overloads are deleted.
  Statement& bind(int index, int64_t value);
  Statement& bind(int index, const std::string& text);
  Statement& bind(int index, std::string&& text) = delete;
  Statement& bind(int index, const std::optional<std::string>& text);  // NULL when unset
  Statement& bind(int index, std::optional<std::string>&& text) = delete;
  Statement& bind_static(int index, const char* text);  // a string with static storage
  Statement& bind_blob(int index, const std::string& bytes);
  Statement& bind_blob(int index, std::string&& bytes) = delete;
  Statement& bind_null(int index);

  bool step();          // true while a row is available
  void run();           // for a statement that returns no row
  int changes() const;  // rows changed by the last run()

  bool is_null(int column) const;
  int64_t int64(int column) const;
  std::string text(int column) const;  // "" for NULL
  std::optional<std::string> optional_text(int column) const;
  std::string_view blob(int column) const;  // valid until the next step

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Connection {
 public:
  // `flags` are sqlite3_open_v2 flags.
  Connection(const std::string& filename, int flags);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs SQL that returns nothing (schema, pragmas); may hold several statements.
  void exec(const std::string& sql);
  // The single-row, single-column answer of a pragma or query, as text.
  std::string query_text(const std::string& sql);
  Statement prepare(std::string_view sql);
  bool in_transaction() const;

 private:
  struct Finalize {
    void operator()(sqlite3_stmt* stmt) const;
  };
  // Heterogeneous lookup: finding a cached statement does not build a string.
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
  };

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, Finalize>, TextHash,
                     std::equal_to<>>
      cache_;
};

}  // namespace sluice::persistence::sqlite
