#pragma once
// How one HTTP request hears about its submission: the session actor calls a
// channel (on a CAF worker), the channel answers through the Responder (which
// posts to the connection). A channel dropped without an answer (its session
// actor vanished) answers 503 rather than leaving the client hanging.
#include <memory>
#include <string>

#include "actors/commands.hpp"
#include "net/http_types.hpp"

namespace sluice::net {

enum class PromptMode { sync, stream };

// POST /agents/:name/:id: waits for the outcome (sync JSON) or streams events (SSE).
std::shared_ptr<actors::SubmissionObserver> make_prompt_channel(std::shared_ptr<Responder> responder,
                                                                PromptMode mode);
// POST /agents/:name/:id/dispatch: answers 202 once admitted.
std::shared_ptr<actors::SubmissionObserver> make_dispatch_channel(
    std::shared_ptr<Responder> responder);
// POST /agents/:name/:id/abort
std::shared_ptr<actors::AbortObserver> make_abort_channel(std::shared_ptr<Responder> responder);
// DELETE /agents/:name/:id
std::shared_ptr<actors::DeleteObserver> make_delete_channel(std::shared_ptr<Responder> responder);

}  // namespace sluice::net
