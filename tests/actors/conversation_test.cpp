// The model sees the whole conversation of its session, also after the session
// actor passivated or the node restarted (the history is reloaded from storage).
#include <catch2/catch.hpp>

#include "support/http_client.hpp"
#include "support/node_fixture.hpp"

using namespace sluice::test;
using nlohmann::json;

namespace {

const HeaderList kJson = {{"Content-Type", "application/json"}};

std::string prompt(HttpClient& client, const std::string& message) {
  auto response =
      client.request("POST", "/agents/recall/c1", json({{"message", message}}).dump(), kJson);
  INFO(response.body);
  REQUIRE(response.status == 200);
  return response.json()["result"];
}

}  // namespace

TEST_CASE("every turn is given the session's history, across passivation and restarts") {
  TestProject project;
  project.write_agent("recall",
                      "model = \"sluice/scripted\"\nexpose = [\"http\"]\n[model_options]\n"
                      "loop = true\n[[model_options.turns]]\ntext = \"{users}: {last_user}\"\n");
  TempDir data("sluice-conversation");
  const std::string url = "sqlite://" + (data / "sluice.db").string();
  {
    TestNode node(project.path(), {{"SLUICE_SESSION_IDLE_MS", "20"}}, url);
    HttpClient client("127.0.0.1", node.port());
    CHECK(prompt(client, "a") == "1: a");
    CHECK(prompt(client, "b") == "2: b");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // passivates
    CHECK(node.node().live_sessions() == 0);
    CHECK(prompt(client, "c") == "3: c");
    node.stop();
  }
  TestNode restarted(project.path(), {}, url);
  HttpClient client("127.0.0.1", restarted.port());
  CHECK(prompt(client, "d") == "4: d");
}
