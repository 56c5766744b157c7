#pragma once
// The router: the one place that decides who handles a session. Today every
// session is owned by this node; it spawns session actors on demand, forwards
// commands to them, lets idle ones passivate, and stops them all at shutdown.
//
// Messages: (submit_atom, SubmitPtr), (abort_atom, AbortPtr), (ensure_atom,
// SessionKey) -> spawns a session with unsettled work, (passivate_atom,
// SessionKey, uint64_t received) -> bool, (count_atom) -> size_t live sessions,
// (shutdown_atom) -> replies once every session actor has released its work.
#include <caf/fwd.hpp>

#include "actors/session_context.hpp"

namespace sluice::actors {

caf::actor spawn_router(caf::actor_system& system, SessionContextPtr context);

}  // namespace sluice::actors
