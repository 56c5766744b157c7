// The DELETE /agents/:name/:id route over real HTTP: what it refuses, with the
// documented errors, and that a refused delete leaves the session alone.
#include <catch2/catch.hpp>

#include "support/http_client.hpp"
#include "support/node_fixture.hpp"

using namespace sluice::test;
using nlohmann::json;

namespace {

const HeaderList kJson = {{"Content-Type", "application/json"}};

void check_error(const Response& response, int status, const std::string& type) {
  INFO(response.body);
  CHECK(response.status == status);
  const json body = response.json();
  REQUIRE(body.contains("error"));
  CHECK(body["error"]["type"] == type);
  CHECK_FALSE(body["error"]["message"].get<std::string>().empty());
}

size_t history_size(HttpClient& client, const std::string& path) {
  return client.request("GET", path).json()["entries"].size();
}

}  // namespace

TEST_CASE("DELETE of a session validates the agent, the instance and the session name") {
  TestProject project;
  TestNode node(project.path());
  HttpClient client("127.0.0.1", node.port());
  REQUIRE(client.request("POST", "/agents/echo/v", R"({"message":"kept"})", kJson).status == 200);
  REQUIRE(client.request("POST", "/agents/echo/v", R"({"message":"kept","session":"task:x"})",
                         kJson)
              .status == 400);

  check_error(client.request("DELETE", "/agents/echo/v?session=task:1"), 400, "invalid_request");
  check_error(client.request("DELETE", "/agents/echo/v?session="), 400, "invalid_request");
  check_error(client.request("DELETE", "/agents/echo/v?session=" + std::string(600, 's')), 400,
              "invalid_request");
  check_error(client.request("DELETE", "/agents/echo/" + std::string(600, 'x')), 400,
              "invalid_request");
  check_error(client.request("DELETE", "/agents/nobody/v"), 404, "agent_not_found");
  check_error(client.request("DELETE", "/agents/hidden/v"), 404, "agent_not_found");
  CHECK(history_size(client, "/agents/echo/v/history") == 2);

  auto wrong_method = client.request("PUT", "/agents/echo/v", R"({"message":"x"})", kJson);
  check_error(wrong_method, 405, "method_not_allowed");
  CHECK(wrong_method.header("Allow").find("DELETE") != std::string::npos);
  CHECK(wrong_method.header("Allow").find("POST") != std::string::npos);

  auto deleted = client.request("DELETE", "/agents/echo/v");  // the default session
  CHECK(deleted.status == 202);
  CHECK(deleted.json() == json{{"deleted", true}});
  CHECK(history_size(client, "/agents/echo/v/history") == 0);
}

TEST_CASE("DELETE honours the bearer token like every other route") {
  TestProject project;
  TestNode node(project.path(), {{"SLUICE_AUTH_TOKEN", "secret-token"}});
  HttpClient client("127.0.0.1", node.port());
  check_error(client.request("DELETE", "/agents/echo/t"), 401, "unauthorized");
  auto allowed =
      client.request("DELETE", "/agents/echo/t", "", {{"Authorization", "Bearer secret-token"}});
  CHECK(allowed.status == 202);
}
