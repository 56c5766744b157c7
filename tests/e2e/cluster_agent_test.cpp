// A tool-using agent in a cluster: a prompt streamed through a node that does
// not own the session runs on the owner (its model turns and its sandbox), and
// every event, tool events included, comes back through the forwarding node
// in order. Real sluice processes on one real PostgreSQL schema, like
// cluster_test.cpp (run through scripts/with-postgres.sh).
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "e2e/cluster_nodes.hpp"
#include "persistence/open_database.hpp"
#include "persistence/postgres_test_schema.hpp"
#include "support/agent_events.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using namespace sluice;
using namespace sluice::test;
using nlohmann::json;

namespace {

// The bash call says which node ran it: the sandbox passes the server's
// SLUICE_NODE_ID on as NODE.
constexpr const char* kAgent =
    "model = \"sluice/scripted\"\nexpose = [\"http\"]\ntools = [\"bash\"]\n"
    "[sandbox]\nkind = \"local\"\ncwd = \"SANDBOX/{session}\"\nenv = { NODE = \"$SLUICE_NODE_ID\" "
    "}\n"
    "[model_options]\nloop = true\n"
    "[[model_options.turns]]\ntext = \"Let me look.\"\n"
    "tool_calls = [{ name = \"bash\", args = { command = \"echo ran-on-$NODE | tee note.txt\" } "
    "}]\n"
    "[[model_options.turns]]\ntext = \"I found: {last_tool_result}\"\n";

// Two nodes serving the tool agent: ClusterNodes' set-up with this project.
class ToolCluster {
 public:
  ToolCluster() : dir_("sluice-cluster-agent") {
    std::string agent = kAgent;
    agent.replace(agent.find("SANDBOX"), 7, (dir_ / "sandbox").string());
    std::filesystem::create_directories(dir_ / "project" / "agents");
    std::ofstream(dir_ / "project" / "agents" / "tools.toml") << agent;
  }

  void start(const std::string& name) {
    const uint16_t http_port = free_port();
    const uint16_t cluster_port = free_port();
    ProcessOptions options;
    options.argv = {SLUICE_BINARY, "serve", "--project", (dir_ / "project").string()};
    options.env = {{"PORT", std::to_string(http_port)},
                   {"DATABASE_URL", schema_.url()},
                   {"SLUICE_NODE_ID", name},
                   {"SLUICE_CLUSTER_SECRET", kClusterSecret},
                   {"SLUICE_CLUSTER_PORT", std::to_string(cluster_port)},
                   {"SLUICE_ADVERTISE", "127.0.0.1:" + std::to_string(cluster_port)}};
    options.stderr_path = dir_ / (name + ".log");
    processes_.push_back(std::make_unique<Process>(std::move(options)));
    ports_.push_back(http_port);
    REQUIRE(wait_for_http_ok(http_port, "/readyz", 30s, processes_.back().get()));
  }

  // Until every node's view lists every node, so ownership is settled.
  void wait_until_all_see_all() {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (const uint16_t port : ports_) {
      HttpClient client("127.0.0.1", port);
      while (client.request("GET", "/admin/cluster").json()["view"].size() != ports_.size()) {
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(50ms);
      }
    }
  }

  uint16_t port(size_t i) const { return ports_.at(i); }
  std::string log(size_t i) const { return processes_.at(i)->stderr_text(); }
  const std::filesystem::path& dir() const { return dir_.path(); }
  std::unique_ptr<persistence::Database> open_database() const {
    return persistence::open_database(schema_.url());
  }

 private:
  persistence::testing::PostgresTestSchema schema_;
  TempDir dir_;
  std::vector<std::unique_ptr<Process>> processes_;
  std::vector<uint16_t> ports_;
};

std::string session_owned_by(const std::string& owner) {
  for (int i = 0;; ++i) {
    const std::string session = "tools" + std::to_string(i);
    if (ClusterNodes::owner_among({"n1", "n2"}, {"tools", "inst", session}) == owner)
      return session;
  }
}


}  // namespace

TEST_CASE("tool events of a session on another node stream through the node that was asked",
          "[cluster]") {
  ToolCluster cluster;
  cluster.start("n1");
  cluster.start("n2");
  cluster.wait_until_all_see_all();
  const std::vector<std::string> names = {"n1", "n2"};

  // Each node in turn forwards to the other.
  for (size_t asked = 0; asked < 2; ++asked) {
    const std::string owner = names[1 - asked];
    const std::string session = session_owned_by(owner);
    INFO("asked " << names[asked] << ", owner " << owner << ", session " << session);
    HttpClient client("127.0.0.1", cluster.port(asked));
    auto stream = client.open_sse("POST", "/agents/tools/inst",
                                  json{{"message", "look around"}, {"session", session}}.dump(),
                                  {{"Content-Type", "application/json"}});
    REQUIRE(stream.status() == 200);
    std::vector<json> events;
    while (auto event = stream.next(20s)) {
      events.push_back(event->json());
      CHECK(events.back()["type"] == event->event);
    }
    INFO(json(events).dump(1) << "\n" << cluster.log(0) << "\n" << cluster.log(1));
    CHECK(milestones(events) == std::vector<std::string>{"agent_start", "turn_start", "text_delta",
                                                         "turn", "tool_start", "tool_call",
                                                         "turn_start", "text_delta", "turn",
                                                         "operation", "idle"});
    for (size_t i = 0; i < events.size(); ++i) CHECK(events[i]["eventIndex"] == i);

    const std::string ran = "ran-on-" + owner + "\n";
    const auto tool_start = of_type(events, "tool_start");
    const auto tool_call = of_type(events, "tool_call");
    REQUIRE(tool_start.size() == 1);
    REQUIRE(tool_call.size() == 1);
    CHECK(tool_start[0]["toolName"] == "bash");
    CHECK(tool_start[0]["args"] == json{{"command", "echo ran-on-$NODE | tee note.txt"}});
    CHECK(tool_start[0]["session"] == session);
    CHECK(tool_call[0]["toolCallId"] == tool_start[0]["toolCallId"]);
    CHECK(tool_call[0]["isError"] == false);
    const std::string tool_result = "exit code: 0\n<stdout>\n" + ran + "</stdout>\n";
    CHECK(tool_call[0]["result"] == tool_result);
    const auto result = of_type(events, "operation");
    REQUIRE(result.size() == 1);
    CHECK(result[0]["result"] == "I found: " + tool_result);

    // The owner ran the submission, its turns and its tool.
    auto db = cluster.open_database();
    auto txn = db->begin();
    const auto records =
        txn->list_submissions({"tools", "inst", session}, std::nullopt, persistence::Page{0, 10});
    txn->commit();
    REQUIRE(records.size() == 1);
    CHECK(records[0].last_owner == owner);
    CHECK(records[0].id == result[0]["submissionId"]);
    std::ifstream note(cluster.dir() / "sandbox" / session / "note.txt");
    std::string line;
    CHECK(std::getline(note, line));
    CHECK(line + "\n" == ran);

    const json history =
        client.request("GET", "/agents/tools/inst/history?session=" + session).json()["entries"];
    std::vector<std::string> types;
    for (const auto& entry : history) types.push_back(entry["type"]);
    CHECK(types ==
          std::vector<std::string>{"user", "assistant", "tool_call", "tool_result", "assistant"});
  }
}
