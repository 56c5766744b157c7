#include "actors/session_gateway.hpp"

#include "actors/messages.hpp"

namespace sluice::actors {

struct SessionGateway::Impl {
  caf::actor router;
};

SessionGateway::SessionGateway(const caf::actor& router) : impl_(std::make_unique<Impl>()) {
  impl_->router = router;
}

SessionGateway::~SessionGateway() = default;

void SessionGateway::submit(SubmitCommand command) const {
  caf::anon_send(impl_->router, submit_atom::value,
                 SubmitPtr(std::make_shared<const SubmitCommand>(std::move(command))));
}

void SessionGateway::abort(AbortCommand command) const {
  caf::anon_send(impl_->router, abort_atom::value,
                 AbortPtr(std::make_shared<const AbortCommand>(std::move(command))));
}

void SessionGateway::remove(DeleteCommand command) const {
  caf::anon_send(impl_->router, delete_atom::value,
                 DeletePtr(std::make_shared<const DeleteCommand>(std::move(command))));
}

}  // namespace sluice::actors
