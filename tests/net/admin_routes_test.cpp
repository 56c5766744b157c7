// The admin routes of a single node, over a real socket.
#include <catch2/catch.hpp>

#include "support/http_client.hpp"
#include "support/node_fixture.hpp"

using namespace sluice::test;
using nlohmann::json;

TEST_CASE("GET /admin/agents lists every agent with its model and transports, hidden ones too") {
  TestProject project;
  TestNode node(project.path());
  HttpClient client("127.0.0.1", node.port());
  auto response = client.request("GET", "/admin/agents");
  REQUIRE(response.status == 200);
  const json agents = response.json()["items"];
  REQUIRE(agents.size() == 3);
  CHECK(agents[0] == json{{"name", "echo"},  // by name
                          {"transports", {{"http", true}, {"websocket", true}}},
                          {"created", true},
                          {"model", "sluice/echo"},
                          {"source", "agents/echo.toml"}});  // relative to the project
  CHECK(agents[1]["name"] == "hidden");
  CHECK(agents[1]["transports"] == json::object());
  CHECK(agents[2]["name"] == "slow");
  CHECK(agents[2]["transports"] == json{{"http", true}});

  CHECK(client.request("POST", "/admin/agents").status == 405);
}

TEST_CASE("GET /admin/sessions/:name/:id shows each session's owner, queue and last outcome") {
  TestProject project(/*slow_delay_ms=*/2000);
  TestNode node(project.path());
  HttpClient client("127.0.0.1", node.port());
  const HeaderList json_body = {{"Content-Type", "application/json"}};
  REQUIRE(client.request("POST", "/agents/slow/i1", R"({"message":"x","session":"a"})", json_body)
              .status == 200);
  for (int i = 0; i < 2; ++i) {
    REQUIRE(client
                .request("POST", "/agents/slow/i1/dispatch", R"({"input":"y","session":"b"})",
                         json_body)
                .status == 202);
  }
  auto response = client.request("GET", "/admin/sessions/slow/i1");
  REQUIRE(response.status == 200);
  const json sessions = response.json()["sessions"];
  REQUIRE(sessions.size() == 2);
  CHECK(sessions[0] == json{{"session", "a"},
                            {"owner", "test-node"},
                            {"queueDepth", 0},
                            {"running", false},
                            {"lastOutcome", "completed"}});
  CHECK(sessions[1]["session"] == "b");
  CHECK(sessions[1]["queueDepth"] == 2);
  CHECK(sessions[1]["running"] == true);
  CHECK(sessions[1]["lastOutcome"].is_null());

  CHECK(client.request("GET", "/admin/sessions/slow/nobody").json()["sessions"] == json::array());
  CHECK(client.request("GET", "/admin/sessions/missing/i1").status == 404);
}
