#include "persistence/open_database.hpp"

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

TEST_CASE("Postgres is refused without echoing the URL", "[open_database]") {
  const std::string url = "postgres://app:s3cret@db.internal:5432/sluice";
  CHECK_THROWS_AS(open_database(url), DatabaseUrlError);
  CHECK_THROWS_WITH(open_database(url), Catch::Contains("Postgres is not supported yet"));
  CHECK_THROWS_WITH(open_database(url), !Catch::Contains("s3cret"));
  CHECK_THROWS_WITH(open_database("postgresql://x/y"), Catch::Contains("not supported yet"));
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
