#pragma once
// Running a piece of an actor's logic back inside the actor. Storage callbacks
// (storage thread), model callbacks (model thread) and timers hand the actor a
// continuation; the actor runs it on its own turn, so its state is only ever
// touched by itself. A continuation for an actor that has gone is dropped
// unrun with the message.
#include <chrono>
#include <functional>
#include <memory>

#include <caf/all.hpp>

namespace sluice::actors {

using continue_atom = caf::atom_constant<caf::atom("continue")>;
using Continuation = std::shared_ptr<std::function<void()>>;

template <class F>
void continue_in(const caf::actor& target, F&& f) {
  caf::anon_send(target, continue_atom::value,
                 std::make_shared<std::function<void()>>(std::forward<F>(f)));
}

template <class F>
void continue_after(caf::event_based_actor* self, std::chrono::milliseconds delay, F&& f) {
  self->delayed_send(caf::actor_cast<caf::actor>(self), delay, continue_atom::value,
                     std::make_shared<std::function<void()>>(std::forward<F>(f)));
}

}  // namespace sluice::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sluice::actors::Continuation)
