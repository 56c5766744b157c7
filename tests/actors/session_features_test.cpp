#include <catch2/catch.hpp>

#include <thread>

#include "actors/history_helpers.hpp"
#include "support/http_client.hpp"
#include "support/node_fixture.hpp"

using namespace sluice::test;
using nlohmann::json;

namespace {
const HeaderList kJson = {{"Content-Type", "application/json"}};

json wait_for_state(HttpClient& client, const std::string& path, const std::string& state) {
  json record;
  for (int i = 0; i < 500; ++i) {
    record = client.request("GET", path).json();
    if (record["state"] == state) return record;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return record;
}
}  // namespace

TEST_CASE("a sync prompt answers its result with the submission id") {
  TestProject project;
  TestNode node(project.path());
  HttpClient client("127.0.0.1", node.port());
  auto response = client.request("POST", "/agents/echo/a", R"({"message":"hello there"})", kJson);
  REQUIRE(response.status == 200);
  CHECK(response.json() == json{{"result", "hello there"}});
  const std::string id = response.header("X-Sluice-Submission-Id");
  REQUIRE(id.rfind("sub_", 0) == 0);
  auto record = client.request("GET", "/agents/echo/a/submissions/" + id).json();
  CHECK(record["state"] == "completed");
  CHECK(record["kind"] == "direct");
  CHECK(record["sequence"] == 1);
  CHECK(record["inputApplied"] == true);
  CHECK(record["result"] == "hello there");
  CHECK(record["error"].is_null());
  CHECK(record["settledAt"].is_string());
  // sluice/echo counts words: "Repeat." and "hello there" in, "hello there" out.
  CHECK(record["usage"] == json{{"inputTokens", 3}, {"outputTokens", 2}});
}

TEST_CASE("an SSE prompt streams the turn's events, then result, then idle") {
  TestProject project;
  TestNode node(project.path());
  HttpClient client("127.0.0.1", node.port());
  auto stream =
      client.open_sse("POST", "/agents/echo/sse", R"({"message":"one two three"})", kJson);
  REQUIRE(stream.status() == 200);
  CHECK(stream.header("Content-Type").find("text/event-stream") == 0);
  const std::string submission = stream.header("X-Sluice-Submission-Id");
  CHECK(!submission.empty());
  std::vector<std::string> types;
  std::string text;
  int index = 0;
  while (auto event = stream.next(10s)) {
    const json data = event->json();
    CHECK(event->id == std::to_string(index));
    CHECK(data["eventIndex"] == index);
    CHECK(data["type"] == event->event);
    ++index;
    types.push_back(event->event);
    if (event->event == "text_delta") text += data["delta"].get<std::string>();
    CHECK(data["instanceId"] == "sse");
    CHECK(data["submissionId"] == submission);
    CHECK_FALSE(data.contains("runId"));
    if (event->event != "idle") CHECK(data["operationId"] == "op_" + submission.substr(4));
    if (event->event == "operation") {
      CHECK(data["isError"] == false);
      CHECK(data["result"] == "one two three");
      CHECK(data["durationMs"].get<int64_t>() >= 0);
    }
  }
  CHECK(text == "one two three");
  REQUIRE(types.size() >= 6);
  CHECK(types[0] == "operation_start");
  CHECK(types[1] == "agent_start");
  CHECK(types[types.size() - 2] == "operation");
  CHECK(types.back() == "idle");
  CHECK(std::find(types.begin(), types.end(), "result") == types.end());
  CHECK(std::find(types.begin(), types.end(), "turn") != types.end());
  CHECK(stream.complete());
}

TEST_CASE("dispatch answers 202 with a receipt and an idempotent replay answers the same") {
  TestProject project;
  TestNode node(project.path());
  HttpClient client("127.0.0.1", node.port());
  HeaderList headers = kJson;
  headers.emplace_back("Idempotency-Key", "key-1");
  auto first = client.request("POST", "/agents/echo/d/dispatch", R"({"input":{"n":1}})", headers);
  REQUIRE(first.status == 202);
  const json receipt = first.json();
  CHECK(receipt["dispatchId"].get<std::string>().rfind("dsp_", 0) == 0);
  CHECK(receipt["sequence"] == 1);
  auto replay = client.request("POST", "/agents/echo/d/dispatch", R"({"input":{"n":1}})", headers);
  CHECK(replay.status == 202);
  CHECK(replay.body == first.body);
  auto conflict =
      client.request("POST", "/agents/echo/d/dispatch", R"({"input":{"n":2}})", headers);
  CHECK(conflict.status == 409);
  CHECK(conflict.json()["error"]["type"] == "idempotency_conflict");
  // A key is scoped to its agent instance: another instance may use it freely.
  auto elsewhere =
      client.request("POST", "/agents/echo/d2/dispatch", R"({"input":{"n":2}})", headers);
  CHECK(elsewhere.status == 202);

  auto record = wait_for_state(
      client, "/agents/echo/d/submissions/" + receipt["submissionId"].get<std::string>(),
      "completed");
  CHECK(record["result"] == R"({"n":1})");  // non-string input is delivered as its JSON text
  CHECK(submissions(client, "echo", "d").size() == 1);
}

TEST_CASE("an idempotent prompt replay attaches to the same submission and gets its outcome") {
  TestProject project(/*slow_delay_ms=*/300);
  TestNode node(project.path());
  HeaderList headers = kJson;
  headers.emplace_back("Idempotency-Key", "p-1");
  std::string first_id;
  std::thread first([&] {
    HttpClient client("127.0.0.1", node.port());
    auto response = client.request("POST", "/agents/slow/i", R"({"message":"once"})", headers);
    CHECK(response.status == 200);
    first_id = response.header("X-Sluice-Submission-Id");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  HttpClient client("127.0.0.1", node.port());
  auto replay = client.request("POST", "/agents/slow/i", R"({"message":"once"})", headers);
  first.join();
  CHECK(replay.status == 200);
  CHECK(replay.json()["result"] == "once");
  CHECK(replay.header("X-Sluice-Submission-Id") == first_id);
  CHECK(history(client, "slow", "i").size() == 2);
}

TEST_CASE("abort settles queued submissions at once and the running one promptly") {
  TestProject project(/*slow_delay_ms=*/5000);
  TestNode node(project.path());
  HttpClient client("127.0.0.1", node.port());
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto receipt = client.request("POST", "/agents/slow/ab/dispatch",
                                  json{{"input", "m" + std::to_string(i)}}.dump(), kJson);
    REQUIRE(receipt.status == 202);
    ids.push_back(receipt.json()["submissionId"]);
  }
  wait_for_state(client, "/agents/slow/ab/submissions/" + ids[0], "running");
  // Abort just the last queued one first.
  auto one =
      client.request("POST", "/agents/slow/ab/abort", json{{"submissionId", ids[2]}}.dump(), kJson);
  REQUIRE(one.status == 202);
  CHECK(one.json()["aborted"] == json::array({ids[2]}));
  // Then everything unsettled.
  auto all = client.request("POST", "/agents/slow/ab/abort", "{}", kJson);
  REQUIRE(all.status == 202);
  CHECK(all.json()["aborted"].size() == 2);
  for (const auto& id : ids) {
    auto record = wait_for_state(client, "/agents/slow/ab/submissions/" + id, "aborted");
    CHECK(record["state"] == "aborted");
    CHECK(record["error"]["type"] == "submission_aborted");
  }
  // The session still works afterwards.
  auto next = client.request("POST", "/agents/echo/ab", R"({"message":"after"})", kJson);
  CHECK(next.status == 200);
}

TEST_CASE("a sync prompt whose submission is aborted answers 409 submission_aborted") {
  TestProject project(/*slow_delay_ms=*/5000);
  TestNode node(project.path());
  std::thread aborter([&] {
    HttpClient client("127.0.0.1", node.port());
    for (int i = 0; i < 500; ++i) {
      auto records = submissions(client, "slow", "sa");
      if (!records.empty() && records[0]["state"] == "running") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    client.request("POST", "/agents/slow/sa/abort", "", {});
  });
  HttpClient client("127.0.0.1", node.port());
  auto response = client.request("POST", "/agents/slow/sa", R"({"message":"x"})", kJson);
  aborter.join();
  CHECK(response.status == 409);
  auto error = response.json()["error"];
  CHECK(error["type"] == "submission_aborted");
  CHECK(error["meta"]["reason"] == "abort_requested");
  CHECK(error["meta"]["submissionId"] == response.header("X-Sluice-Submission-Id"));
}

TEST_CASE("idle session actors passivate and rehydrate from storage") {
  TestProject project;
  TestNode node(project.path(), {{"SLUICE_SESSION_IDLE_MS", "50"}});
  HttpClient client("127.0.0.1", node.port());
  for (int i = 0; i < 10; ++i) {
    REQUIRE(
        client.request("POST", "/agents/echo/p" + std::to_string(i), R"({"message":"a"})", kJson)
            .status == 200);
  }
  size_t live = node.node().live_sessions();
  for (int i = 0; i < 300 && live > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    live = node.node().live_sessions();
  }
  CHECK(live == 0);
  auto again = client.request("POST", "/agents/echo/p3", R"({"message":"b"})", kJson);
  CHECK(again.status == 200);
  auto records = submissions(client, "echo", "p3");
  REQUIRE(records.size() == 2);
  CHECK(records[1]["sequence"] == 2);
}

TEST_CASE("a client that disconnects does not cancel its admitted prompt") {
  TestProject project(/*slow_delay_ms=*/300);
  TestNode node(project.path());
  {
    HttpClient client("127.0.0.1", node.port());
    auto stream = client.open_sse("POST", "/agents/slow/gone", R"({"message":"still"})", kJson);
    REQUIRE(stream.status() == 200);
    stream.close();
  }
  HttpClient client("127.0.0.1", node.port());
  json record;
  for (int i = 0; i < 300; ++i) {
    auto records = submissions(client, "slow", "gone");
    if (!records.empty() && records[0]["state"] == "completed") {
      record = records[0];
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(record["result"] == "still");
}

TEST_CASE("a turn that outlives the submission timeout fails visibly") {
  TestProject project(/*slow_delay_ms=*/10000);
  TestNode node(project.path(), {{"SLUICE_SUBMISSION_TIMEOUT_MS", "1500"}});
  HttpClient client("127.0.0.1", node.port());
  auto response = client.request("POST", "/agents/slow/t", R"({"message":"too slow"})", kJson);
  CHECK(response.status == 500);
  CHECK(response.json()["error"]["type"] == "submission_failed");
  CHECK(response.json()["error"]["meta"]["reason"] == "exceeded_timeout");
  auto entries = history(client, "slow", "t");
  REQUIRE(entries.size() == 2);
  CHECK(entries[1]["type"] == "interruption");
}

TEST_CASE("an agent's timeout_s overrides the server's submission timeout") {
  TestProject project(/*slow_delay_ms=*/10000);
  project.write_agent("brief", "model = \"sluice/echo\"\nexpose = [\"http\"]\ntimeout_s = 1\n"
                               "[model_options]\ndelay_ms = 10000\n");
  TestNode node(project.path(), {{"SLUICE_SUBMISSION_TIMEOUT_MS", "60000"}});
  HttpClient client("127.0.0.1", node.port());
  const auto started = std::chrono::steady_clock::now();
  auto response = client.request("POST", "/agents/brief/t", R"({"message":"too slow"})", kJson);
  CHECK(response.status == 500);
  CHECK(response.json()["error"]["meta"]["reason"] == "exceeded_timeout");
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}
