#pragma once
// One actor per session: admits inputs durably, then processes them strictly
// one at a time in sequence order, writing every change under its fence.
#include <caf/fwd.hpp>

#include "actors/session_context.hpp"
#include "core/session_key.hpp"

namespace sluice::actors {

// Spawned by the router only. The actor claims the session in storage (which
// bumps its fencing epoch), recovers what a previous owner left unsettled, and
// asks the router to passivate it once it has been idle for a while.
caf::actor spawn_session_actor(caf::event_based_actor* router, SessionKey key,
                               SessionContextPtr context);

}  // namespace sluice::actors
