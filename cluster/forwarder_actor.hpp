#pragma once
// The forwarder: carries commands for sessions that other nodes own. It keeps
// one connection (a CAF proxy of the peer's gate) per member, opened through
// the middleman's asynchronous connect (never a blocking call on a scheduler
// thread), and spawns a relay per command. A peer whose connection fails is
// forgotten and reconnected on the next command.
//
// Messages: (submit_atom, SubmitPtr, node id, advertise "host:port"),
// (abort_atom, AbortPtr, node id, advertise), (delete_atom, DeletePtr, node
// id, advertise).
#include <caf/fwd.hpp>

#include "cluster/relay_actor.hpp"

namespace sluice::cluster {

caf::actor spawn_forwarder(caf::actor_system& system, RelayOptions options);

}  // namespace sluice::cluster
