// apps/example_app.cpp as a user runs it: an application linking Sluice whose
// agent is defined in C++, with tools the factory scopes to each instance.
#include <catch2/catch.hpp>

#include <fstream>

#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace sluice::test;
using nlohmann::json;

namespace {

std::string prompt(HttpClient& client, const std::string& instance) {
  auto response = client.request("POST", "/agents/notes/" + instance,
                                 R"({"message":"remember the milk"})",
                                 {{"Content-Type", "application/json"}});
  INFO(response.body);
  REQUIRE(response.status == 200);
  return response.json()["result"];
}

}  // namespace

TEST_CASE("an agent defined in C++ serves beside the project's files, tools scoped per instance") {
  TempDir dir;
  const uint16_t port = free_port();
  ProcessOptions options;
  options.argv = {SLUICE_EXAMPLE_APP, "--project", std::string(SLUICE_SOURCE_DIR) + "/examples"};
  options.env = {{"PORT", std::to_string(port)}};
  options.stderr_path = dir / "app.err";
  Process app(options);
  REQUIRE(wait_for_http_ok(port, "/readyz", 20s, &app));
  HttpClient client("127.0.0.1", port);

  CHECK(prompt(client, "alice") == "Your notes: milk");
  CHECK(prompt(client, "alice") == "Your notes: milk; milk");
  CHECK(prompt(client, "bob") == "Your notes: milk");  // bob's own notebook

  auto history = client.request("GET", "/agents/notes/bob/history").json()["entries"];
  REQUIRE(history.size() == 5);
  CHECK(history[2]["type"] == "tool_call");
  CHECK(history[2]["toolName"] == "add_note");
  CHECK(history[3]["result"] == "milk");

  // The project's file agents are served by the same process.
  auto echo = client.request("POST", "/agents/echo/x", R"({"message":"hi"})",
                             {{"Content-Type", "application/json"}});
  CHECK(echo.status == 200);

  app.kill(SIGTERM);
  auto status = app.wait(20s);
  REQUIRE(status);
  CHECK(status->exited_with(0));
}

TEST_CASE("a C++ agent whose name a file already takes is refused at start-up") {
  TempDir dir;
  std::filesystem::create_directories(dir / "agents");
  std::ofstream(dir / "agents" / "notes.toml") << "model = \"sluice/echo\"\n";
  ProcessOptions options;
  options.argv = {SLUICE_EXAMPLE_APP, "--project", dir.path().string()};
  options.env = {{"PORT", std::to_string(free_port())}};
  options.stderr_path = dir / "app.err";
  Process app(options);
  auto status = app.wait(20s);
  REQUIRE(status);
  CHECK(status->exited_with(1));
  CHECK(app.stderr_text().find("agent 'notes' (defined in C++): the name is taken by") !=
        std::string::npos);
}
