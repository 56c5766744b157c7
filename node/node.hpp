#pragma once
// One Sluice node: storage, the actor system (router, coordinator, session
// actors), the model runtime and the HTTP front end, wired together.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "node/node_config.hpp"

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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::node
