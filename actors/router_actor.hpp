#pragma once
// The router: the one place that decides who handles a session. On one node it
// handles every session itself. In a cluster it knows the live members (sent by
// the coordinator) and sends a command for a session another node owns to the
// forwarder, which carries it to that node; a command that arrived from another
// node is always handled here. It spawns session actors on demand, lets idle
// ones passivate, hands sessions that now belong elsewhere over at a turn
// boundary (parking their commands meanwhile), and stops them all at shutdown.
//
// Messages: (submit_atom, SubmitPtr), (abort_atom, AbortPtr), (delete_atom,
// DeletePtr), (reroute_atom, SubmitPtr|AbortPtr|DeletePtr) -> a command a
// leaving session gave back, (ensure_atom, SessionKey) -> spawns a session
// with unsettled work if it is ours, (members_atom, MembersPtr),
// (passivate_atom, SessionKey, uint64_t received) -> bool, (count_atom) ->
// size_t live sessions, (shutdown_atom) -> replies once every session actor
// has released its work.
#include <caf/fwd.hpp>
#include <caf/actor.hpp>

#include "actors/session_context.hpp"

namespace sluice::actors {

// forwarder: receives (submit_atom, SubmitPtr, node id, advertise),
// (abort_atom, AbortPtr, ...) and (delete_atom, DeletePtr, ...); null on a
// single node.
caf::actor spawn_router(caf::actor_system& system, SessionContextPtr context,
                        caf::actor forwarder = {});

}  // namespace sluice::actors
