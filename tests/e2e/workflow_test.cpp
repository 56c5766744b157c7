// Workflow runs over the real `sluice serve` binary: the three modes of
// POST /workflows/:name, run inspection, a run cut by kill -9 ended on restart,
// and a workflow built in C++ (the example application).
#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const HeaderList kJson = {{"Content-Type", "application/json"}};

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

// examples/ plus a slow agent and workflows for the cases below.
fs::path make_project(const TempDir& dir) {
  const fs::path root = dir / "project";
  fs::copy(fs::path(SLUICE_SOURCE_DIR) / "examples", root, fs::copy_options::recursive);
  write(root / "agents" / "slow.toml",
        "model = \"sluice/echo\"\nexpose = [\"http\"]\n[model_options]\ndelay_ms = 4000\n");
  write(root / "workflows" / "slow.toml",
        "agent = \"slow\"\nprompt = \"wait for {{payload.what}}\"\nexpose = [\"http\"]\n");
  write(root / "workflows" / "internal.toml", "agent = \"echo\"\nprompt = \"hidden\"\n");
  return root;
}

class Server {
 public:
  Server(const TempDir& dir, const fs::path& project, const std::string& database_url, int run,
         uint16_t port = free_port())
      : port_(port), process_(options(dir, project, database_url, run, port)) {
    REQUIRE(wait_for_http_ok(port_, "/readyz", 20s, &process_));
  }
  uint16_t port() const { return port_; }
  Process& process() { return process_; }

 private:
  static ProcessOptions options(const TempDir& dir, const fs::path& project,
                                const std::string& database_url, int run, uint16_t port) {
    ProcessOptions options;
    options.argv = {SLUICE_BINARY, "serve", "--project", project.string()};
    options.env = {{"PORT", std::to_string(port)},
                   {"SLUICE_NODE_ID", "workflow-node"},
                   {"SLUICE_RECLAIM_INTERVAL_MS", "200"},
                   {"SLUICE_LOG_LEVEL", "warn"}};
    if (!database_url.empty()) options.env["DATABASE_URL"] = database_url;
    options.stderr_path = dir / ("err-" + std::to_string(run) + ".log");
    return options;
  }

  uint16_t port_;
  Process process_;
};

json wait_for_run(HttpClient& client, const std::string& run_id, const std::string& status,
                  std::chrono::milliseconds patience = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  json run;
  while (std::chrono::steady_clock::now() < deadline) {
    auto response = client.request("GET", "/runs/" + run_id);
    if (response.status == 200) {
      run = response.json();
      if (run["status"] == status) return run;
    }
    std::this_thread::sleep_for(50ms);
  }
  FAIL("run " << run_id << " did not reach " << status << "; last: " << run.dump());
  return run;
}

void check_indexes_consecutive(const json& events) {
  for (size_t i = 0; i < events.size(); ++i) {
    INFO(events[i].dump());
    CHECK(events[i]["eventIndex"] == static_cast<int64_t>(i));
  }
}

}  // namespace

TEST_CASE("a workflow runs in its three modes and its record and events can be read back",
          "[workflows]") {
  TempDir dir;
  Server server(dir, make_project(dir), "", 1);
  HttpClient client("127.0.0.1", server.port());

  SECTION("?wait=result answers the result with the run id") {
    auto response =
        client.request("POST", "/workflows/greet?wait=result", R"({"name":"Ada"})", kJson);
    INFO(response.body);
    REQUIRE(response.status == 200);
    const json body = response.json();
    CHECK(body["result"] == json{{"text", "Write a one-line greeting for Ada."}});
    const std::string run_id = body["_meta"]["runId"];
    CHECK(response.header("X-Flue-Run-Id") == run_id);
    CHECK(run_id.rfind("workflow:greet:", 0) == 0);
    CHECK(run_id.size() == std::string("workflow:greet:").size() + 26);

    const json run = client.request("GET", "/runs/" + run_id).json();
    CHECK(run["status"] == "completed");
    CHECK(run["owner"] ==
          json{{"kind", "workflow"}, {"workflowName", "greet"}, {"instanceId", run_id}});
    CHECK(run["payload"] == json{{"name", "Ada"}});
    CHECK(run["result"] == body["result"]);
    CHECK(run["isError"] == false);
    CHECK(run["durationMs"].is_number());

    const json events = client.request("GET", "/runs/" + run_id + "/events").json()["events"];
    REQUIRE(events.size() >= 3);
    check_indexes_consecutive(events);
    CHECK(events.front()["type"] == "run_start");
    CHECK(events.back()["type"] == "run_end");
    CHECK(events.back()["result"] == body["result"]);
    for (const auto& event : events) CHECK(event["runId"] == run_id);
    bool agent_ran = false;
    for (const auto& event : events) agent_ran |= event["type"] == "agent_end";
    CHECK(agent_ran);
  }

  SECTION("the default answers 202 at once; the run completes on its own") {
    auto response = client.request("POST", "/workflows/greet", R"({"name":"Bo"})", kJson);
    INFO(response.body);
    REQUIRE(response.status == 202);
    const json body = response.json();
    CHECK(body["status"] == "accepted");
    const std::string run_id = body["runId"];
    CHECK(response.header("X-Flue-Run-Id") == run_id);
    const json run = wait_for_run(client, run_id, "completed");
    CHECK(run["result"]["text"] == "Write a one-line greeting for Bo.");
  }

  SECTION("SSE streams every event of the run, in order, ending with run_end") {
    auto stream = client.open_sse("POST", "/workflows/greet", R"({"name":"Cy"})",
                                  {{"Content-Type", "application/json"},
                                   {"Accept", "text/event-stream"}});
    REQUIRE(stream.status() == 200);
    const std::string run_id = stream.header("X-Flue-Run-Id");
    REQUIRE(!run_id.empty());
    json events = json::array();
    while (auto event = stream.next(10s)) {
      const json data = event->json();
      CHECK(event->event == data["type"]);
      CHECK(event->id == std::to_string(data["eventIndex"].get<int64_t>()));
      events.push_back(data);
    }
    REQUIRE(events.size() >= 3);
    check_indexes_consecutive(events);
    CHECK(events.front()["type"] == "run_start");
    CHECK(events.back()["type"] == "run_end");
    CHECK(events.back()["result"]["text"] == "Write a one-line greeting for Cy.");
    // What was streamed is what was stored.
    CHECK(client.request("GET", "/runs/" + run_id + "/events").json()["events"] == events);
  }

  SECTION("bad requests are refused before a run exists") {
    auto missing = client.request("POST", "/workflows/greet?wait=result", R"({"nom":"x"})", kJson);
    CHECK(missing.status == 400);
    CHECK(missing.json()["error"]["type"] == "validation_failed");
    CHECK(missing.json()["error"]["message"].get<std::string>().find("name") != std::string::npos);
    CHECK(missing.header("X-Flue-Run-Id").empty());

    auto unknown = client.request("POST", "/workflows/nope", "{}", kJson);
    CHECK(unknown.status == 404);
    CHECK(unknown.json()["error"]["type"] == "workflow_not_found");

    auto hidden = client.request("POST", "/workflows/internal", "{}", kJson);
    CHECK(hidden.status == 404);
    CHECK(hidden.json()["error"]["type"] == "workflow_not_http");

    auto broken = client.request("POST", "/workflows/greet", "{", kJson);
    CHECK(broken.status == 400);
    CHECK(broken.json()["error"]["type"] == "invalid_json");

    auto wait = client.request("POST", "/workflows/greet?wait=later", R"({"name":"x"})", kJson);
    CHECK(wait.status == 400);
    CHECK(wait.json()["error"]["type"] == "invalid_request");

    auto text = client.request("POST", "/workflows/greet", "hi", {{"Content-Type", "text/plain"}});
    CHECK(text.status == 415);

    auto unknown_run = client.request("GET", "/runs/workflow:greet:01JNOTARUN0000000000000000");
    CHECK(unknown_run.status == 404);
    CHECK(unknown_run.json()["error"]["type"] == "run_not_found");
  }
}

TEST_CASE("a run cut by kill -9 is ended as interrupted when the node restarts, not replayed",
          "[workflows][crash]") {
  TempDir dir;
  const fs::path project = make_project(dir);
  const std::string database = "sqlite://" + (dir / "runs.db").string();
  const uint16_t port = free_port();
  std::string run_id;
  {
    Server server(dir, project, database, 1, port);
    HttpClient client("127.0.0.1", server.port());
    auto response = client.request("POST", "/workflows/slow", R"({"what":"it"})", kJson);
    REQUIRE(response.status == 202);
    run_id = response.json()["runId"];
    // Wait until the agent is working on the run's prompt, then kill the node.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    bool prompting = false;
    while (!prompting && std::chrono::steady_clock::now() < deadline) {
      const json events = client.request("GET", "/runs/" + run_id + "/events").json()["events"];
      for (const auto& event : events) prompting |= event["type"] == "turn_start";
      std::this_thread::sleep_for(20ms);
    }
    REQUIRE(prompting);
    server.process().kill(SIGKILL);
    REQUIRE(server.process().wait(10s));
  }
  Server restarted(dir, project, database, 2, port);
  HttpClient client("127.0.0.1", restarted.port());
  const json run = wait_for_run(client, run_id, "errored");
  CHECK(run["isError"] == true);
  CHECK(run["error"]["meta"]["reason"] == "node_lost");
  CHECK_FALSE(run.contains("result"));  // an errored run has an error, no result

  const json events = client.request("GET", "/runs/" + run_id + "/events").json()["events"];
  REQUIRE(events.size() >= 3);
  check_indexes_consecutive(events);
  CHECK(events[events.size() - 2]["type"] == "run_resume");
  CHECK(events.back()["type"] == "run_end");
  CHECK(events.back()["isError"] == true);
  // Not replayed: no second run_start, and the workflow's prompt was admitted once.
  int starts = 0;
  for (const auto& event : events) starts += event["type"] == "run_start";
  CHECK(starts == 1);
  const json submissions =
      client.request("GET", "/agents/slow/" + run_id + "/submissions").json()["submissions"];
  CHECK(submissions.size() == 1);

  // A stream of the ended run replays it and ends.
  auto stream = client.open_sse("GET", "/runs/" + run_id + "/stream", "", {});
  REQUIRE(stream.status() == 200);
  size_t streamed = 0;
  while (stream.next(10s)) ++streamed;
  CHECK(streamed == events.size());
}

TEST_CASE("a workflow built in C++ logs, prompts its agent and returns its result",
          "[workflows]") {
  TempDir dir;
  const uint16_t port = free_port();
  ProcessOptions options;
  options.argv = {SLUICE_EXAMPLE_APP, "--project", std::string(SLUICE_SOURCE_DIR) + "/examples"};
  options.env = {{"PORT", std::to_string(port)}};
  options.stderr_path = dir / "app.err";
  Process app(options);
  REQUIRE(wait_for_http_ok(port, "/readyz", 20s, &app));
  HttpClient client("127.0.0.1", port);

  auto response = client.request("POST", "/workflows/note-taker?wait=result",
                                 R"({"items":["milk","eggs"]})", kJson);
  INFO(response.body);
  REQUIRE(response.status == 200);
  const json result = response.json()["result"];
  CHECK(result["items"] == 2);
  CHECK(result["lastAnswer"] == "Your notes: milk; milk");
  const std::string run_id = response.json()["_meta"]["runId"];

  const json events = client.request("GET", "/runs/" + run_id + "/events?types=log").json()["events"];
  REQUIRE(events.size() == 2);
  CHECK(events[0]["message"] == "noting an item");
  CHECK(events[0]["attributes"]["item"] == "milk");
  CHECK(events[1]["attributes"]["item"] == "eggs");
  CHECK(events[0]["level"] == "info");

  auto refused = client.request("POST", "/workflows/note-taker", R"({"items":3})", kJson);
  CHECK(refused.status == 400);
  CHECK(refused.json()["error"]["type"] == "validation_failed");

  app.kill(SIGTERM);
  auto status = app.wait(20s);
  REQUIRE(status);
  CHECK(status->exited_with(0));
}
