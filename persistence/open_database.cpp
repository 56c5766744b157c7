#include "persistence/open_database.hpp"

#include <cstdlib>
#include <filesystem>

#include "persistence/postgres_database.hpp"
#include "persistence/sqlite_database.hpp"

namespace sluice::persistence {
namespace {

constexpr const char* kAccepted =
    "expected an empty value (in-memory), a file path, sqlite:///absolute/path or "
    "postgres://user@host:port/database";
constexpr int64_t kDefaultConnectTimeoutMs = 30'000;

bool is_postgres(const std::string& url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

// How long to keep retrying while the Postgres server is not up yet (a cluster
// and its database often start together).
std::chrono::milliseconds connect_timeout() {
  const char* text = std::getenv("SLUICE_DB_CONNECT_TIMEOUT_MS");
  if (!text || !*text) return std::chrono::milliseconds(kDefaultConnectTimeoutMs);
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (*end != '\0' || value < 0) {
    throw DatabaseUrlError("SLUICE_DB_CONNECT_TIMEOUT_MS must be a number of milliseconds, got '" +
                           std::string(text) + "'");
  }
  return std::chrono::milliseconds(value);
}

// The error messages never repeat the URL: a Postgres URL may carry a password.
std::string file_path_of(const std::string& url) {
  const size_t separator = url.find("://");
  if (separator != std::string::npos) {
    const std::string scheme = url.substr(0, separator);
    if (scheme != "sqlite") {
      throw DatabaseUrlError("DATABASE_URL: unsupported scheme '" + scheme + "'; " + kAccepted);
    }
    std::string path = url.substr(separator + 3);
    if (path.empty() || path.front() != '/') {
      throw DatabaseUrlError(
          "DATABASE_URL: a sqlite URL needs an absolute path (sqlite:///abs/path)");
    }
    return path;
  }
  if (url.starts_with("sqlite:") || url.starts_with("postgres:") ||
      url.starts_with("postgresql:")) {
    throw DatabaseUrlError("DATABASE_URL: malformed URL; " + std::string(kAccepted));
  }
  return url;
}

void check_location(const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path file(path);
  if (!file.has_filename()) {
    throw DatabaseUrlError("DATABASE_URL: " + path + " names a folder, not a database file");
  }
  std::error_code error;
  if (fs::is_directory(file, error)) {
    throw DatabaseUrlError("DATABASE_URL: " + path + " is a folder, not a database file");
  }
  const fs::path folder = file.has_parent_path() ? file.parent_path() : fs::path(".");
  if (!fs::is_directory(folder, error)) {
    throw DatabaseUrlError("DATABASE_URL: folder " + folder.string() + " does not exist (for " +
                           path + "); create it first");
  }
}

}  // namespace

bool is_in_memory(const std::string& database_url) {
  return database_url.empty() || database_url == ":memory:";
}

std::unique_ptr<Database> open_database(const std::string& database_url) {
  if (is_in_memory(database_url)) return SqliteDatabase::open_in_memory();
  if (is_postgres(database_url)) return PostgresDatabase::connect(database_url, connect_timeout());
  const std::string path = file_path_of(database_url);
  check_location(path);
  return SqliteDatabase::open_file(path);
}

}  // namespace sluice::persistence
