// Retention: a node purges settled submissions and idempotency keys older than
// SLUICE_RETENTION_DAYS (decimals allowed, so a test can use under a second),
// keeps unsettled work and history, and rejects a malformed setting.
#include <catch2/catch.hpp>

#include <map>
#include <thread>

#include "actors/history_helpers.hpp"
#include "node/node_config.hpp"
#include "support/http_client.hpp"
#include "support/node_fixture.hpp"

using namespace sluice;
using namespace sluice::test;
using nlohmann::json;

namespace {

const HeaderList kJson = {{"Content-Type", "application/json"}};

node::NodeConfig config_with(std::map<std::string, std::string> env) {
  return node::NodeConfig::from_environment([&env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

}  // namespace

TEST_CASE("retention purges old settled submissions and keys, never unsettled work or history") {
  TestProject project(/*slow_delay_ms=*/2500);
  // 0.00001 days is 864 ms.
  TestNode node(project.path(), {{"SLUICE_RETENTION_DAYS", "0.00001"},
                                 {"SLUICE_RETENTION_INTERVAL_MS", "100"}});
  HttpClient client("127.0.0.1", node.port());
  HeaderList keyed = kJson;
  keyed.emplace_back("Idempotency-Key", "r-1");
  auto done = client.request("POST", "/agents/echo/r", R"({"message":"old news"})", keyed);
  REQUIRE(done.status == 200);
  const std::string done_id = done.header("X-Sluice-Submission-Id");
  auto running = client.request("POST", "/agents/slow/r/dispatch", R"({"input":"long"})", kJson);
  REQUIRE(running.status == 202);
  const std::string running_id = running.json()["submissionId"];

  int status = 200;
  for (int i = 0; i < 500 && status == 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    status = client.request("GET", "/agents/echo/r/submissions/" + done_id).status;
  }
  CHECK(status == 404);
  CHECK(history(client, "echo", "r").size() == 2);
  // Older than the cutoff by now, but not settled: kept.
  auto unsettled = client.request("GET", "/agents/slow/r/submissions/" + running_id);
  REQUIRE(unsettled.status == 200);
  CHECK(unsettled.json()["state"] == "running");
  // The key went with its submission: another body under it is a new admission.
  auto reused = client.request("POST", "/agents/echo/r", R"({"message":"new"})", keyed);
  CHECK(reused.status == 200);
  CHECK(reused.header("X-Sluice-Submission-Id") != done_id);
}

TEST_CASE("SLUICE_RETENTION_DAYS and SLUICE_RETENTION_INTERVAL_MS are read and checked") {
  CHECK(config_with({}).coordinator.retention.count() == 0);
  CHECK(config_with({}).coordinator.purge_every.count() == 3'600'000);
  CHECK(config_with({{"SLUICE_RETENTION_DAYS", "0"}}).coordinator.retention.count() == 0);
  CHECK(config_with({{"SLUICE_RETENTION_DAYS", "30"}}).coordinator.retention.count() ==
        30LL * 86'400'000);
  CHECK(config_with({{"SLUICE_RETENTION_DAYS", "0.5"}}).coordinator.retention.count() ==
        43'200'000);
  CHECK(config_with({{"SLUICE_RETENTION_INTERVAL_MS", "250"}}).coordinator.purge_every.count() ==
        250);
  for (const char* bad : {"-1", "abc", "1e3", "2 days", "99999999"}) {
    INFO(bad);
    CHECK_THROWS_WITH(config_with({{"SLUICE_RETENTION_DAYS", bad}}),
                      Catch::Contains("SLUICE_RETENTION_DAYS"));
  }
  CHECK_THROWS_WITH(config_with({{"SLUICE_RETENTION_INTERVAL_MS", "0"}}),
                    Catch::Contains("SLUICE_RETENTION_INTERVAL_MS"));
}
