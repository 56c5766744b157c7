// The `sluice serve` binary as a user runs it: start-up messages, graceful
// shutdown that releases work at a turn boundary, and refusing bad projects.
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

ProcessOptions serve(const TempDir& dir, uint16_t port, std::map<std::string, std::string> env,
                     const std::string& log) {
  env["PORT"] = std::to_string(port);
  ProcessOptions options;
  options.argv = {SLUICE_BINARY, "serve", "--project", (dir / "project").string()};
  options.env = std::move(env);
  options.stdout_path = dir / (log + ".out");
  options.stderr_path = dir / (log + ".err");
  return options;
}

json wait_settled(HttpClient& client, const std::string& path) {
  json record;
  for (int i = 0; i < 1000; ++i) {
    record = client.request("GET", path).json();
    if (record["state"] != "queued" && record["state"] != "running") break;
    std::this_thread::sleep_for(10ms);
  }
  return record;
}

}  // namespace

TEST_CASE("serve on the embedded default warns that nothing survives a restart") {
  TempDir dir;
  write(dir / "project" / "agents" / "echo.toml", "model = \"sluice/echo\"\nexpose = [\"http\"]\n");
  const uint16_t port = free_port();
  Process server(serve(dir, port, {}, "mem"));
  REQUIRE(wait_for_http_ok(port, "/readyz", 20s, &server));
  HttpClient client("127.0.0.1", port);
  auto response = client.request("POST", "/agents/echo/x", R"({"message":"hi"})",
                                 {{"Content-Type", "application/json"}});
  CHECK(response.status == 200);
  server.kill(SIGINT);
  auto status = server.wait(20s);
  REQUIRE(status);
  CHECK(status->exited_with(0));
  CHECK(server.stderr_text().find("nothing survives a restart") != std::string::npos);
}

TEST_CASE("SIGTERM releases running work at a turn boundary and a restart finishes it") {
  TempDir dir;
  write(dir / "project" / "agents" / "slow.toml",
        "model = \"sluice/echo\"\nexpose = [\"http\"]\n[model_options]\ndelay_ms = 3000\n");
  const uint16_t port = free_port();
  std::map<std::string, std::string> env = {{"DATABASE_URL", (dir / "sluice.db").string()},
                                            {"SLUICE_NODE_ID", "graceful"},
                                            {"SLUICE_SHUTDOWN_GRACE_MS", "200"},
                                            {"SLUICE_RECLAIM_INTERVAL_MS", "100"}};
  std::vector<std::string> ids;
  {
    Process server(serve(dir, port, env, "first"));
    REQUIRE(wait_for_http_ok(port, "/healthz", 20s, &server));
    HttpClient client("127.0.0.1", port);
    for (int i = 0; i < 3; ++i) {
      auto receipt = client.request("POST", "/agents/slow/g/dispatch",
                                    json{{"input", "m" + std::to_string(i)}}.dump(),
                                    {{"Content-Type", "application/json"}});
      REQUIRE(receipt.status == 202);
      ids.push_back(receipt.json()["submissionId"]);
    }
    for (int i = 0; i < 500; ++i) {
      if (client.request("GET", "/agents/slow/g/submissions/" + ids[0]).json()["state"] ==
          "running") {
        break;
      }
      std::this_thread::sleep_for(10ms);
    }
    server.kill(SIGTERM);
    auto status = server.wait(20s);
    REQUIRE(status);
    CHECK(status->exited_with(0));
  }
  Process server(serve(dir, port, env, "second"));
  REQUIRE(wait_for_http_ok(port, "/healthz", 20s, &server));
  HttpClient client("127.0.0.1", port);
  for (size_t i = 0; i < ids.size(); ++i) {
    const json record = wait_settled(client, "/agents/slow/g/submissions/" + ids[i]);
    CHECK(record["state"] == "completed");
    CHECK(record["result"] == "m" + std::to_string(i));
    CHECK(record["attempts"] == 1);  // the released turn did not use up an attempt
  }
  auto history = client.request("GET", "/agents/slow/g/history").json()["entries"];
  CHECK(history.size() == 6);
}

TEST_CASE("an invalid agent definition stops start-up naming the file and the key") {
  TempDir dir;
  write(dir / "project" / "agents" / "broken.toml", "model = \"sluice/echo\"\nexpose = \"http\"\n");
  Process server(serve(dir, free_port(), {}, "broken"));
  auto status = server.wait(20s);
  REQUIRE(status);
  CHECK(status->code != 0);
  const std::string err = server.stderr_text();
  CHECK(err.find("broken.toml") != std::string::npos);
  CHECK(err.find("expose") != std::string::npos);
}

TEST_CASE("a malformed configuration variable stops start-up naming it") {
  TempDir dir;
  write(dir / "project" / "agents" / "echo.toml", "model = \"sluice/echo\"\n");
  Process server(serve(dir, free_port(), {{"SLUICE_MAX_QUEUE_DEPTH", "lots"}}, "config"));
  auto status = server.wait(20s);
  REQUIRE(status);
  CHECK(status->code != 0);
  CHECK(server.stderr_text().find("SLUICE_MAX_QUEUE_DEPTH") != std::string::npos);
}
