// A run's SSE stream resumed with Last-Event-ID after `sluice serve` restarted
// on the same SQLite file: the events come from the file, none missing, none
// repeated.
#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::test;
using nlohmann::json;

namespace {

void write(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

ProcessOptions serve(const TempDir& dir, uint16_t port, const std::string& log) {
  ProcessOptions options;
  options.argv = {SLUICE_BINARY, "serve", "--project", (dir / "project").string()};
  options.env = {{"PORT", std::to_string(port)},
                 {"DATABASE_URL", (dir / "sluice.db").string()},
                 {"SLUICE_NODE_ID", "run-stream-node"}};
  options.stdout_path = dir / (log + ".out");
  options.stderr_path = dir / (log + ".err");
  return options;
}

void stop(Process& server) {
  server.kill(SIGTERM);
  auto status = server.wait(20s);
  REQUIRE(status);
  CHECK(status->exited_with(0));
}

}  // namespace

TEST_CASE("a run stream resumes after Last-Event-ID across a server restart", "[e2e][runs]") {
  TempDir dir;
  write(dir / "project" / "agents" / "echo.toml", "model = \"sluice/echo\"\nexpose = [\"http\"]\n");
  write(dir / "project" / "workflows" / "greet.toml",
        "agent = \"echo\"\nprompt = \"Greet {{payload.name}}.\"\nexpose = [\"http\"]\n");
  const uint16_t port = free_port();

  std::string run_id;
  json persisted;  // every event of the run, as stored
  std::vector<SseEvent> before;
  {
    Process server(serve(dir, port, "first"));
    REQUIRE(wait_for_http_ok(port, "/readyz", 20s, &server));
    HttpClient client("127.0.0.1", port);
    auto started = client.request("POST", "/workflows/greet?wait=result", R"({"name":"Ada"})",
                                  {{"Content-Type", "application/json"}});
    REQUIRE(started.status == 200);
    run_id = started.json()["_meta"]["runId"];
    persisted = client.request("GET", "/runs/" + run_id + "/events?limit=1000").json()["events"];
    REQUIRE(persisted.size() >= 3);
    REQUIRE(persisted.back()["type"] == "run_end");

    auto stream = client.open_sse("GET", "/runs/" + run_id + "/stream");
    REQUIRE(stream.status() == 200);
    for (int i = 0; i < 2; ++i) {
      auto event = stream.next(10s);
      REQUIRE(event);
      before.push_back(*event);
    }
    stop(server);
  }

  Process server(serve(dir, port, "second"));
  REQUIRE(wait_for_http_ok(port, "/readyz", 20s, &server));
  HttpClient client("127.0.0.1", port);
  CHECK(client.request("GET", "/runs/" + run_id).json()["status"] == "completed");
  auto resumed =
      client.open_sse("GET", "/runs/" + run_id + "/stream", {}, {{"Last-Event-ID", before.back().id}});
  REQUIRE(resumed.status() == 200);
  std::vector<SseEvent> after;
  while (auto event = resumed.next(10s)) after.push_back(*event);
  CHECK(resumed.complete());

  // The two parts together are exactly the stored events, in order.
  REQUIRE(before.size() + after.size() == persisted.size());
  std::vector<SseEvent> all = before;
  all.insert(all.end(), after.begin(), after.end());
  for (size_t i = 0; i < all.size(); ++i) {
    INFO("event " << i);
    CHECK(all[i].id == std::to_string(i));
    CHECK(all[i].event == persisted[i]["type"]);
    CHECK(all[i].json() == persisted[i]);
  }
  CHECK(all.back().event == "run_end");
  stop(server);
}
