#pragma once
// Waiting for an admitted submission's outcome from storage rather than from
// its session actor: used when the actor that would have told us is gone (it
// handed the session to another node, lost it, or its node stopped answering).
// Polls the record until it is terminal, then calls on_settled; past the
// deadline it answers unavailable, naming the submission so the client can
// poll it. Events of the remaining turns are not relayed.
#include <cstdint>
#include <memory>

#include <caf/fwd.hpp>

#include "actors/commands.hpp"
#include "persistence/executor.hpp"

namespace sluice::actors {

void watch_outcome(caf::actor_system& system, persistence::StorageExecutor* storage,
                   const persistence::SubmissionRecord& record,
                   std::shared_ptr<SubmissionObserver> observer, int64_t deadline_ms);

}  // namespace sluice::actors
