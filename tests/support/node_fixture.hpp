#pragma once
// An in-process Sluice node on a free port, over a project written into a
// temporary directory. Header-only: suites that use it link sluice_node.
//
//   TestProject project;                       // echo, slow (delay) and hidden agents
//   TestNode node(project.path(), {{"SLUICE_SESSION_IDLE_MS", "50"}});
//   HttpClient client("127.0.0.1", node.port());
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "node/node.hpp"
#include "support/temp_dir.hpp"

namespace sluice::test {

class TestProject {
 public:
  // slow_delay_ms: the model delay of the "slow" agent.
  explicit TestProject(int slow_delay_ms = 400) {
    std::filesystem::create_directories(dir_.path() / "agents");
    write_agent("echo",
                "model = \"sluice/echo\"\ninstructions = \"Repeat.\"\n"
                "expose = [\"http\", \"websocket\"]\n");
    write_agent("slow",
                "model = \"sluice/echo\"\nexpose = [\"http\"]\n[model_options]\n"
                "delay_ms = " +
                    std::to_string(slow_delay_ms) + "\n");
    write_agent("hidden", "model = \"sluice/echo\"\nexpose = []\n");
  }

  void write_agent(const std::string& name, const std::string& toml) {
    std::ofstream(dir_.path() / "agents" / (name + ".toml")) << toml;
  }

  const std::filesystem::path& path() const { return dir_.path(); }

 private:
  TempDir dir_{"sluice-project"};
};

class TestNode {
 public:
  using Env = std::map<std::string, std::string>;

  TestNode(const std::filesystem::path& project, Env env = {}, std::string database_url = {}) {
    env.emplace("PORT", "0");
    env.emplace("SLUICE_NODE_ID", "test-node");
    if (!database_url.empty()) env["DATABASE_URL"] = database_url;
    auto config = node::NodeConfig::from_environment([&env](const char* name) -> const char* {
      auto it = env.find(name);
      return it == env.end() ? nullptr : it->second.c_str();
    });
    config.project_dir = project;
    node_ = std::make_unique<node::Node>(std::move(config));
    node_->start();
  }

  uint16_t port() const { return node_->port(); }
  node::Node& node() { return *node_; }
  void stop() { node_->stop(); }

 private:
  std::unique_ptr<node::Node> node_;
};

}  // namespace sluice::test
