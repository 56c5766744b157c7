#pragma once
// One Sluice node: storage, the actor system (router, coordinator, session
// actors), the model runtime and the HTTP front end, wired together.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "node/node_config.hpp"
#include "persistence/records.hpp"

namespace sluice::node {

class Node {
 public:
  // Loads the project and opens storage; throws with a message fit for a
  // human (harness::ProjectError, ConfigError, persistence errors).
  explicit Node(NodeConfig config);
  ~Node();  // stop()
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Registers the node, starts the actors and binds the HTTP listener.
  void start();
  uint16_t port() const;
  // Graceful: stop accepting, let every session reach a turn boundary and
  // release its work, deregister, close storage. Idempotent.
  void stop();
  // Session actors currently in memory (blocks briefly; not for io threads).
  size_t live_sessions();

  // Runs one workflow on this node and waits for its end (`sluice run`). Each
  // event is handed to on_event once durable, in order, on another thread.
  // Throws workflows::WorkflowError when the run cannot start (unknown
  // workflow, refused payload); a run that fails returns its errored record.
  persistence::RunRecord run_workflow(const std::string& workflow, nlohmann::json payload,
                                      std::function<void(const nlohmann::json&)> on_event);
  // Loads the project's agent and workflow definitions again (`sluice dev`)
  // and serves them from now on; accepted work goes on. Throws with a message
  // fit for a human when a definition is broken: the current ones keep serving.
  void reload_project();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::node
