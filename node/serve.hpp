#pragma once
// Runs one node until SIGINT or SIGTERM, then stops it gracefully: what
// `sluice serve` does, and what an application that links Sluice calls.
#include "node/node_config.hpp"

namespace sluice::node {

// Call before starting any thread, so that only this function's sigwait sees
// the stop signals. Once the node has started, provider keys are wiped from
// the environment and the process is made non-dumpable, so a command an agent
// runs can read them neither from its environment nor from /proc. Throws what
// Node's constructor and start() throw; returns the exit code.
int serve_until_stopped(NodeConfig config);

}  // namespace sluice::node
