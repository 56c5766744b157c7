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
  const json agents = response.json()["agents"];
  REQUIRE(agents.size() == 3);
  CHECK(agents[0]["name"] == "echo");  // by name
  CHECK(agents[0]["model"] == "sluice/echo");
  CHECK(agents[0]["transports"] == json{"http", "websocket"});
  CHECK(agents[0]["source"].get<std::string>().ends_with("agents/echo.toml"));
  CHECK(agents[1]["name"] == "hidden");
  CHECK(agents[1]["transports"] == json::array());
  CHECK(agents[2]["name"] == "slow");
  CHECK(agents[2]["transports"] == json{"http"});

  CHECK(client.request("POST", "/admin/agents").status == 405);
}
