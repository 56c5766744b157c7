#pragma once
// Runs one node until SIGINT or SIGTERM, then stops it gracefully: what
// `sluice serve` and `sluice dev` do, and what an application that links
// Sluice calls.
#include <functional>
#include <memory>

#include "node/node_config.hpp"

namespace sluice::node {

class Node;

// Called on the main thread once the node has started. What it returns lives
// until the stop signal and is destroyed before the node stops, so it may use
// the node (`sluice dev` returns the project watcher).
using StartedHook = std::function<std::shared_ptr<void>(Node& node)>;

// Call before starting any thread, so that only this function's sigwait sees
// the stop signals. Once the node has started, provider keys are wiped from
// the environment and the process is made non-dumpable, so a command an agent
// runs can read them neither from its environment nor from /proc. Throws what
// Node's constructor and start() throw; returns the exit code.
int serve_until_stopped(NodeConfig config, const StartedHook& on_started = {});

// What serve_until_stopped does once the node has started, for the other
// commands that run agents (`sluice run`): wipes the provider keys from the
// environment and makes the process non-dumpable.
void hide_provider_keys();

}  // namespace sluice::node
