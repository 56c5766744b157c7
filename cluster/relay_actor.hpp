#pragma once
// A relay stands in, on the node that received a request, for the session
// actor on the node that owns the session: it sends the sealed command to that
// node's gate and passes each sealed answer to the request's own observer.
// Nothing waits forever: the owner must admit the command within
// `admit_timeout_ms`, and if the owner's node is lost afterwards (CAF's
// node-to-node heartbeats notice a dead or paused peer), the outcome of an
// admitted submission is read from storage instead.
#include <cstdint>
#include <memory>

#include <caf/fwd.hpp>

#include "actors/commands.hpp"
#include "cluster/wire.hpp"
#include "persistence/executor.hpp"

namespace sluice::cluster {

struct RelayOptions {
  std::shared_ptr<const Sealer> sealer;
  persistence::StorageExecutor* storage = nullptr;
  int64_t admit_timeout_ms = 15'000;
  int64_t outcome_timeout_ms = 600'000;  // for reading a lost owner's outcome from storage
};

// router: where a command goes back to be routed again when the owner's node
// is lost before it answered and sending it again cannot admit it twice.
void spawn_submit_relay(caf::actor_system& system, caf::actor gate, caf::actor router,
                        std::shared_ptr<const actors::SubmitCommand> command,
                        const RelayOptions& options);
void spawn_abort_relay(caf::actor_system& system, caf::actor gate, caf::actor router,
                       std::shared_ptr<const actors::AbortCommand> command,
                       const RelayOptions& options);
void spawn_delete_relay(caf::actor_system& system, caf::actor gate, caf::actor router,
                        std::shared_ptr<const actors::DeleteCommand> command,
                        const RelayOptions& options);

}  // namespace sluice::cluster
