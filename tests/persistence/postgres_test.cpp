// Postgres specifics: migrations under concurrent start-up, a schema newer than
// the binary, and the start-up connection retry.
#include <chrono>
#include <thread>

#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "persistence/migrations.hpp"
#include "persistence/open_database.hpp"
#include "persistence/postgres_database.hpp"
#include "persistence/postgres_migrations.hpp"
#include "tests/persistence/postgres_test_schema.hpp"
#include "tests/persistence/tcp_forwarder.hpp"

namespace sluice::persistence {
namespace {

using testing::PostgresTestSchema;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::unique_ptr<PostgresDatabase> connect(const std::string& url) {
  return PostgresDatabase::connect(url, 5s);
}

int64_t count(pqxx::connection& connection, const std::string& sql) {
  pqxx::read_transaction txn(connection);
  return txn.exec1(sql)[0].as<int64_t>();
}

TEST_CASE("nodes starting at once migrate once, without errors", "[postgres][migrations]") {
  const PostgresTestSchema schema;
  constexpr int kNodes = 6;
  std::vector<std::thread> nodes;
  std::vector<std::string> errors(kNodes);
  for (int i = 0; i < kNodes; ++i) {
    nodes.emplace_back([&, i] {
      try {
        connect(schema.url());
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(i)] = e.what();
      }
    });
  }
  for (std::thread& node : nodes) node.join();
  for (const std::string& error : errors) CHECK(error.empty());

  auto db = connect(schema.url());
  const auto applied = postgres::applied_migrations(db->connection());
  REQUIRE(applied.size() == postgres::builtin_migrations().size());
  CHECK(applied.front().version == 1);
  CHECK(count(db->connection(),
              "SELECT count(*) FROM information_schema.tables WHERE table_schema = '" +
                  schema.name() + "'") == 8);  // seven tables and schema_migrations
  CHECK(postgres::migrate(db->connection()).empty());
}

TEST_CASE("reopening applies no migration twice", "[postgres][migrations]") {
  const PostgresTestSchema schema;
  const auto first = postgres::applied_migrations(connect(schema.url())->connection());
  const auto again = postgres::applied_migrations(connect(schema.url())->connection());
  REQUIRE(again.size() == first.size());
  CHECK(again.front().applied_at_ms == first.front().applied_at_ms);
}

TEST_CASE("a schema newer than the binary is refused", "[postgres][migrations]") {
  const PostgresTestSchema schema;
  {
    auto db = connect(schema.url());
    pqxx::work txn(db->connection());
    txn.exec0("INSERT INTO schema_migrations (version, applied_at_ms) VALUES (999, 0)");
    txn.commit();
  }
  CHECK_THROWS_AS(connect(schema.url()), SchemaTooNewError);
  CHECK_THROWS_WITH(connect(schema.url()),
                    Catch::Contains("version 999") && Catch::Contains("upgrade this binary"));
}

TEST_CASE("open_database opens postgres:// and postgresql:// URLs", "[postgres][open_database]") {
  const PostgresTestSchema schema;
  CHECK_THAT(open_database(schema.url())->describe(), Catch::StartsWith("postgres database"));
  const std::string other_scheme =
      "postgresql" + schema.url().substr(std::string("postgres").size());
  CHECK_THAT(open_database(other_scheme)->describe(), Catch::StartsWith("postgres database"));
}

TEST_CASE("connecting gives up after the timeout with a clear message", "[postgres][connect]") {
  // Nothing listens until the forwarder's (long) delay has passed.
  const testing::TcpForwarder never(1, 60s);
  const std::string url =
      "postgres://app:s3cret@127.0.0.1:" + std::to_string(never.port()) + "/sluice";
  const auto start = Clock::now();
  CHECK_THROWS_WITH(PostgresDatabase::connect(url, 400ms),
                    Catch::Contains("cannot connect to postgres") &&
                        Catch::Contains("SLUICE_DB_CONNECT_TIMEOUT_MS") &&
                        !Catch::Contains("s3cret"));
  const auto waited = Clock::now() - start;
  CHECK(waited >= 400ms);
  CHECK(waited < 5s);
}

TEST_CASE("connecting succeeds when the server comes up during the wait", "[postgres][connect]") {
  const PostgresTestSchema schema;
  const std::string server_port = pqxx::connection(schema.url()).port();
  const testing::TcpForwarder late(std::stoi(server_port), 700ms);
  std::string url = schema.url();
  const std::string from = ":" + server_port + "/";
  url.replace(url.find(from), from.size(), ":" + std::to_string(late.port()) + "/");

  const auto start = Clock::now();
  auto db = PostgresDatabase::connect(url, 20s);
  CHECK(Clock::now() - start >= 700ms);
  CHECK(postgres::applied_migrations(db->connection()).size() ==
        postgres::builtin_migrations().size());
}

}  // namespace
}  // namespace sluice::persistence
