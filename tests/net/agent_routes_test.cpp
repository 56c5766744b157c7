// Bad input over real HTTP: each problem gets its documented status and error
// envelope, and nothing already accepted is disturbed.
#include <catch2/catch.hpp>

#include <thread>

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
  CHECK(body["error"]["message"].is_string());
  CHECK_FALSE(body["error"]["message"].get<std::string>().empty());
  CHECK(body["error"].contains("details"));
}

json settled_history(HttpClient& client, const std::string& path) {
  return client.request("GET", path).json()["entries"];
}

}  // namespace

TEST_CASE("bad requests get their documented error and leave accepted work alone") {
  TestProject project;
  TestNode node(project.path(), {{"SLUICE_MAX_BODY_BYTES", "4096"}});
  HttpClient client("127.0.0.1", node.port());
  REQUIRE(client.request("POST", "/agents/echo/bad", R"({"message":"kept"})", kJson).status == 200);

  check_error(client.request("POST", "/agents/echo/bad", "{not json", kJson), 400, "invalid_json");
  check_error(client.request("POST", "/agents/echo/bad", R"({"message":"x"})",
                             {{"Content-Type", "text/plain"}}),
              415, "unsupported_media_type");
  check_error(client.request("POST", "/agents/echo/bad", R"({"message":"x"})"), 415,
              "unsupported_media_type");
  check_error(client.request("POST", "/agents/echo/bad", R"({})", kJson), 400, "invalid_request");
  check_error(client.request("POST", "/agents/echo/bad", R"({"message":42})", kJson), 400,
              "invalid_request");
  check_error(client.request("POST", "/agents/echo/bad", R"(["message"])", kJson), 400,
              "invalid_request");
  check_error(
      client.request("POST", "/agents/echo/bad", R"({"message":"x","session":"task:1"})", kJson),
      400, "invalid_request");
  check_error(client.request("POST", "/agents/echo/bad", R"({"message":"x","session":""})", kJson),
              400, "invalid_request");
  check_error(client.request("POST", "/agents/echo/bad/dispatch", R"({"message":"x"})", kJson), 400,
              "invalid_request");
  check_error(client.request("POST", "/agents/nobody/bad", R"({"message":"x"})", kJson), 404,
              "agent_not_found");
  check_error(client.request("POST", "/agents/hidden/bad", R"({"message":"x"})", kJson), 404,
              "agent_not_found");
  check_error(client.request("GET", "/no/such/route"), 404, "route_not_found");
  check_error(client.request("GET", "/agents/echo/bad/submissions/sub_missing"), 404,
              "submission_not_found");
  check_error(client.request("GET", "/agents/echo/bad/history?limit=0"), 400, "invalid_request");
  check_error(client.request("GET", "/agents/echo/bad/submissions?state=done"), 400,
              "invalid_request");
  check_error(
      client.request("POST", "/agents/echo/" + std::string(600, 'x'), R"({"message":"x"})", kJson),
      400, "invalid_request");

  auto wrong_method = client.request("PUT", "/agents/echo/bad", R"({"message":"x"})", kJson);
  check_error(wrong_method, 405, "method_not_allowed");
  CHECK(wrong_method.header("Allow").find("POST") != std::string::npos);

  const std::string huge = json{{"message", std::string(8192, 'a')}}.dump();
  check_error(client.request("POST", "/agents/echo/bad", huge, kJson), 413, "payload_too_large");

  HttpClient after("127.0.0.1", node.port());
  auto entries = settled_history(after, "/agents/echo/bad/history");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0]["text"] == "kept");
  REQUIRE(after.request("POST", "/agents/echo/bad", R"({"message":"still fine"})", kJson).status ==
          200);
}

TEST_CASE("a full session queue answers 429 with Retry-After and keeps what it accepted") {
  TestProject project(/*slow_delay_ms=*/300);
  TestNode node(project.path(), {{"SLUICE_MAX_QUEUE_DEPTH", "3"}});
  HttpClient client("127.0.0.1", node.port());
  std::vector<std::string> accepted;
  int rejected = 0;
  for (int i = 0; i < 6; ++i) {
    auto response = client.request("POST", "/agents/slow/q/dispatch",
                                   json{{"input", "m" + std::to_string(i)}}.dump(), kJson);
    if (response.status == 202) {
      accepted.push_back(response.json()["submissionId"]);
    } else {
      check_error(response, 429, "overloaded");
      CHECK(response.header("Retry-After") == "1");
      ++rejected;
    }
  }
  CHECK(accepted.size() == 3);
  CHECK(rejected == 3);
  for (const auto& id : accepted) {
    json record;
    for (int i = 0; i < 500; ++i) {
      record = client.request("GET", "/agents/slow/q/submissions/" + id).json();
      if (record["state"] == "completed") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(record["state"] == "completed");
  }
  CHECK(settled_history(client, "/agents/slow/q/history").size() == 6);
}

TEST_CASE("the node admission limit answers 429 across sessions") {
  TestProject project(/*slow_delay_ms=*/500);
  TestNode node(project.path(), {{"SLUICE_NODE_ADMISSION_LIMIT", "2"}});
  HttpClient client("127.0.0.1", node.port());
  CHECK(client.request("POST", "/agents/slow/n1/dispatch", R"({"input":"a"})", kJson).status ==
        202);
  CHECK(client.request("POST", "/agents/slow/n2/dispatch", R"({"input":"b"})", kJson).status ==
        202);
  auto third = client.request("POST", "/agents/slow/n3/dispatch", R"({"input":"c"})", kJson);
  check_error(third, 429, "overloaded");
  CHECK(third.json()["error"]["meta"]["reason"] == "node_full");
}

TEST_CASE("with SLUICE_AUTH_TOKEN every route but /healthz needs the bearer token") {
  TestProject project;
  TestNode node(project.path(), {{"SLUICE_AUTH_TOKEN", "s3cret"}});
  HttpClient client("127.0.0.1", node.port());
  CHECK(client.request("GET", "/healthz").status == 200);
  check_error(client.request("GET", "/readyz"), 401, "unauthorized");
  check_error(client.request("POST", "/agents/echo/a", R"({"message":"x"})", kJson), 401,
              "unauthorized");
  HeaderList wrong = kJson;
  wrong.emplace_back("Authorization", "Bearer s3creT");
  check_error(client.request("POST", "/agents/echo/a", R"({"message":"x"})", wrong), 401,
              "unauthorized");
  HeaderList right = kJson;
  right.emplace_back("Authorization", "Bearer s3cret");
  auto ok = client.request("POST", "/agents/echo/a", R"({"message":"x"})", right);
  CHECK(ok.status == 200);
  CHECK(client.request("GET", "/agents/echo/a/history", "", right).json()["entries"].size() == 2);
}

TEST_CASE("readyz and metrics report the node's state") {
  TestProject project;
  TestNode node(project.path());
  HttpClient client("127.0.0.1", node.port());
  auto ready = client.request("GET", "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.json()["ready"] == true);
  REQUIRE(client.request("POST", "/agents/echo/m", R"({"message":"x"})", kJson).status == 200);
  REQUIRE(client.request("POST", "/agents/echo/m/dispatch", R"({"input":"y"})", kJson).status ==
          202);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto metrics = client.request("GET", "/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.header("Content-Type").find("text/plain") == 0);
  CHECK(metrics.body.find("sluice_admissions_total{kind=\"direct\"} 1") != std::string::npos);
  CHECK(metrics.body.find("sluice_admissions_total{kind=\"dispatch\"} 1") != std::string::npos);
  CHECK(metrics.body.find("sluice_settlements_total{outcome=\"completed\"} 2") !=
        std::string::npos);
  CHECK(metrics.body.find("sluice_queue_depth 0") != std::string::npos);
  CHECK(metrics.body.find("sluice_admission_latency_seconds_bucket") != std::string::npos);
}
