#pragma once
// Isolation for Postgres tests: each PostgresTestSchema creates a schema of its
// own on the server named by SLUICE_TEST_POSTGRES_URL and drops it (with every
// table in it) when it goes away. url() points connections at that schema
// through libpq's `options` parameter, so the code under test needs no
// knowledge of it. A schema is much cheaper to create than a database.
//
// Without SLUICE_TEST_POSTGRES_URL the constructor throws, so every Postgres
// test fails loudly rather than skipping.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <pqxx/connection>
#include <pqxx/nontransaction>

#include "core/ids.hpp"

namespace sluice::persistence::testing {

inline std::string postgres_test_url() {
  const char* url = std::getenv("SLUICE_TEST_POSTGRES_URL");
  if (!url || !*url) {
    throw std::runtime_error(
        "SLUICE_TEST_POSTGRES_URL is not set: run the tests through scripts/with-postgres.sh "
        "(e.g. scripts/with-postgres.sh ctest --test-dir build -L persistence), which starts a "
        "throwaway PostgreSQL server and sets it");
  }
  return url;
}

class PostgresTestSchema {
 public:
  PostgresTestSchema() : server_url_(postgres_test_url()) {
    name_ = "test_" + new_ulid();
    std::transform(name_.begin(), name_.end(), name_.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    run("CREATE SCHEMA " + name_);
    const char separator = server_url_.find('?') == std::string::npos ? '?' : '&';
    url_ = server_url_ + separator + "options=-csearch_path%3D" + name_;
  }
  ~PostgresTestSchema() {
    try {
      run("DROP SCHEMA " + name_ + " CASCADE");
    } catch (...) {
      // The server goes away with its data when with-postgres.sh ends anyway.
    }
  }
  PostgresTestSchema(const PostgresTestSchema&) = delete;
  PostgresTestSchema& operator=(const PostgresTestSchema&) = delete;

  // The server's URL with search_path set to this schema.
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  void run(const std::string& sql) const {
    pqxx::connection admin(server_url_);
    admin.set_variable("client_min_messages", "warning");  // no "drop cascades" notices
    pqxx::nontransaction(admin).exec0(sql);
  }

  std::string server_url_;
  std::string name_;
  std::string url_;
};

}  // namespace sluice::persistence::testing
