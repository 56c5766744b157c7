#include "persistence/open_database.hpp"

#include <stdlib.h>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.hpp"

namespace sluice::persistence {
namespace {

TEST_CASE("an empty DATABASE_URL means SQLite in memory", "[open_database]") {
  CHECK(is_in_memory(""));
  CHECK_FALSE(is_in_memory("/var/lib/sluice/sluice.db"));
  CHECK_FALSE(is_in_memory("sqlite:///var/lib/sluice/sluice.db"));
  CHECK(open_database("")->describe() == "sqlite in memory");
}

TEST_CASE("a path or sqlite:/// URL opens a file", "[open_database]") {
  const test::TempDir dir;
  const std::string path = (dir / "plain.db").string();
  CHECK(open_database(path)->describe() == "sqlite file " + path);
  CHECK(std::filesystem::exists(path));

  const std::string url_path = (dir / "url.db").string();
  CHECK(open_database("sqlite://" + url_path)->describe() == "sqlite file " + url_path);
  CHECK(std::filesystem::exists(url_path));
}

TEST_CASE("a missing folder is a clear error, not a created one", "[open_database]") {
  const test::TempDir dir;
  const std::string path = (dir / "missing" / "sluice.db").string();
  CHECK_THROWS_AS(open_database(path), DatabaseUrlError);
  CHECK_THROWS_WITH(open_database(path), Catch::Contains("does not exist"));
  CHECK_FALSE(std::filesystem::exists(dir / "missing"));
  CHECK_THROWS_WITH(open_database(dir.path().string()), Catch::Contains("folder"));
}

TEST_CASE("an unreachable Postgres fails after the timeout without echoing the URL",
          "[open_database]") {
  ::setenv("SLUICE_DB_CONNECT_TIMEOUT_MS", "200", 1);
  // Port 1 on loopback: nothing listens there, so every attempt is refused.
  for (const char* url :
       {"postgres://app:s3cret@127.0.0.1:1/sluice", "postgresql://app:s3cret@127.0.0.1:1/sluice"}) {
    INFO(url);
    CHECK_THROWS_AS(open_database(url), StorageFailure);
    CHECK_THROWS_WITH(open_database(url),
                      Catch::Contains("cannot connect to postgres") && !Catch::Contains("s3cret"));
  }
  ::setenv("SLUICE_DB_CONNECT_TIMEOUT_MS", "soon", 1);
  CHECK_THROWS_AS(open_database("postgres://127.0.0.1:1/sluice"), DatabaseUrlError);
  ::unsetenv("SLUICE_DB_CONNECT_TIMEOUT_MS");
}

TEST_CASE("malformed URLs are refused", "[open_database]") {
  for (const char* url : {"mysql://db/sluice", "sqlite://relative/path.db", "sqlite://",
                          "sqlite:x.db", "https://example.com/db"}) {
    INFO(url);
    CHECK_THROWS_AS(open_database(url), DatabaseUrlError);
  }
}

}  // namespace
}  // namespace sluice::persistence
