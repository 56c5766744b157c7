#pragma once
// Several real sluice processes forming a cluster on loopback over one real
// PostgreSQL schema, for the cluster tests.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "actors/ownership.hpp"
#include "persistence/open_database.hpp"
#include "persistence/postgres_test_schema.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace sluice::test {

inline constexpr const char* kClusterSecret = "cluster-test-secret-0123456789";

class ClusterNodes {
 public:
  ClusterNodes() : dir_("sluice-cluster") {
    std::filesystem::create_directories(dir_ / "project" / "agents");
    std::ofstream(dir_ / "project" / "agents" / "work.toml")
        << "model = \"sluice/echo\"\nexpose = [\"http\"]\n[model_options]\ndelay_ms = 2\n";
    std::ofstream(dir_ / "project" / "agents" / "slow.toml")
        << "model = \"sluice/echo\"\nexpose = [\"http\"]\n[model_options]\ndelay_ms = 2500\n";
  }

  // Starts node `name` and waits until it is ready (a live member) and every
  // node sees every other. `env` adds to or overrides the node's environment.
  void start(const std::string& name, const std::map<std::string, std::string>& env = {},
             bool wait_for_all = true) {
    Node node;
    node.name = name;
    node.http_port = free_port();
    node.cluster_port = free_port();
    ProcessOptions options;
    options.argv = {SLUICE_BINARY, "serve", "--project", (dir_ / "project").string()};
    options.env = {{"PORT", std::to_string(node.http_port)},
                   {"DATABASE_URL", schema_.url()},
                   {"SLUICE_NODE_ID", name},
                   {"SLUICE_CLUSTER_SECRET", kClusterSecret},
                   {"SLUICE_CLUSTER_PORT", std::to_string(node.cluster_port)},
                   {"SLUICE_ADVERTISE", "127.0.0.1:" + std::to_string(node.cluster_port)},
                   {"SLUICE_LOG_LEVEL", "info"}};
    for (const auto& [key, value] : env) options.env[key] = value;
    options.stderr_path = dir_ / (name + "-" + std::to_string(++runs_) + ".log");
    node.process = std::make_unique<Process>(std::move(options));
    REQUIRE(wait_for_http_ok(node.http_port, "/readyz", 30s, node.process.get()));
    nodes_.push_back(std::move(node));
    if (wait_for_all) wait_until_all_see_all();
  }

  // Until every running node's own view of the members lists every node, so a
  // test's traffic starts with the ownership settled.
  void wait_until_all_see_all() {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (const Node& node : nodes_) {
      HttpClient client("127.0.0.1", node.http_port);
      while (true) {
        const auto view = client.request("GET", "/admin/cluster").json()["view"];
        if (view.size() == nodes_.size()) break;
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(50ms);
      }
    }
  }

  uint16_t port(size_t i) const { return nodes_.at(i).http_port; }
  Process& process(size_t i) { return *nodes_.at(i).process; }
  const std::string& name(size_t i) const { return nodes_.at(i).name; }
  size_t size() const { return nodes_.size(); }

  // Whom rendezvous hashing picks among the named nodes.
  static std::string owner_among(const std::vector<std::string>& names, const SessionKey& key) {
    actors::MemberList members;
    for (const auto& name : names) members.push_back({name, "", ""});
    return actors::owner_of(key.str(), members)->node_id;
  }

  // A direct look at the shared database, to check what the routes do not show.
  std::unique_ptr<persistence::Database> open_database() const {
    return persistence::open_database(schema_.url());
  }

 private:
  struct Node {
    std::string name;
    uint16_t http_port = 0;
    uint16_t cluster_port = 0;
    std::unique_ptr<Process> process;
  };

  persistence::testing::PostgresTestSchema schema_;
  TempDir dir_;
  std::vector<Node> nodes_;
  int runs_ = 0;
};

}  // namespace sluice::test
