#pragma once
// Message vocabulary between the router, session and coordinator actors.
// Local-only payloads travel as shared_ptrs to immutable structs; they are
// marked as unsafe (not serialisable) so CAF accepts them in messages. The
// node-to-node path will carry msgpack envelopes instead.
#include <memory>

#include <caf/all.hpp>

#include "actors/commands.hpp"
#include "core/session_key.hpp"

namespace sluice {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, SessionKey& key) {
  return f(caf::meta::type_name("sluice.session_key"), key.agent, key.instance, key.session);
}

}  // namespace sluice

namespace sluice::actors {

using submit_atom = caf::atom_constant<caf::atom("submit")>;
using abort_atom = caf::atom_constant<caf::atom("abort")>;
using ensure_atom = caf::atom_constant<caf::atom("ensure")>;
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
using count_atom = caf::atom_constant<caf::atom("count")>;
using reconcile_atom = caf::atom_constant<caf::atom("reconcile")>;
using renew_atom = caf::atom_constant<caf::atom("renew")>;

using SubmitPtr = std::shared_ptr<const SubmitCommand>;
using AbortPtr = std::shared_ptr<const AbortCommand>;

}  // namespace sluice::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sluice::actors::SubmitPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sluice::actors::AbortPtr)
