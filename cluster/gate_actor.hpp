#pragma once
// The gate: the one actor a node publishes on its node-to-node port. Peers send
// it (forward_atom, sealed envelope, reply-to actor); it opens the envelope,
// drops it when the seal does not match the cluster secret, and hands the
// command to this node's router marked as forwarded, with an observer that
// seals every answer and event back to the reply-to actor on the sender's node.
#include <memory>

#include <caf/fwd.hpp>

#include "cluster/wire.hpp"

namespace sluice::cluster {

caf::actor spawn_gate(caf::actor_system& system, caf::actor router,
                      std::shared_ptr<const Sealer> sealer);

}  // namespace sluice::cluster
