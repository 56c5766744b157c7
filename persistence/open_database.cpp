#include "persistence/open_database.hpp"

#include <filesystem>

#include "persistence/sqlite_database.hpp"

namespace sluice::persistence {
namespace {

constexpr const char* kAccepted =
    "expected an empty value (in-memory), a file path or sqlite:///absolute/path";

// The error messages never repeat the URL: a Postgres URL may carry a password.
std::string file_path_of(const std::string& url) {
  const size_t separator = url.find("://");
  if (separator != std::string::npos) {
    const std::string scheme = url.substr(0, separator);
    if (scheme == "postgres" || scheme == "postgresql") {
      throw DatabaseUrlError(
          "DATABASE_URL: Postgres is not supported yet by this build; use SQLite (" +
          std::string(kAccepted) + ")");
    }
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
  const std::string path = file_path_of(database_url);
  check_location(path);
  return SqliteDatabase::open_file(path);
}

}  // namespace sluice::persistence
