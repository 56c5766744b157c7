#pragma once
// Message vocabulary between the router, session and coordinator actors.
// Local-only payloads travel as shared_ptrs to immutable structs; they are
// marked as unsafe (not serialisable) so CAF accepts them in messages. The
// node-to-node path will carry msgpack envelopes instead.
#include <memory>

#include <caf/all.hpp>

#include "actors/commands.hpp"
#include "actors/ownership.hpp"
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
using delete_atom = caf::atom_constant<caf::atom("delete")>;
using ensure_atom = caf::atom_constant<caf::atom("ensure")>;
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
using count_atom = caf::atom_constant<caf::atom("count")>;
using reconcile_atom = caf::atom_constant<caf::atom("reconcile")>;
using renew_atom = caf::atom_constant<caf::atom("renew")>;
using members_atom = caf::atom_constant<caf::atom("members")>;
using handoff_atom = caf::atom_constant<caf::atom("handoff")>;
using reroute_atom = caf::atom_constant<caf::atom("reroute")>;
using scan_atom = caf::atom_constant<caf::atom("scan")>;
using purge_atom = caf::atom_constant<caf::atom("purge")>;
// Between nodes: (forward_atom, sealed envelope, reply-to actor) to a node's
// gate, and (reply_atom, sealed envelope) back. Only strings and actor handles
// cross the wire, so no message type needs registering on every node.
using forward_atom = caf::atom_constant<caf::atom("forward")>;
using reply_atom = caf::atom_constant<caf::atom("reply")>;

using SubmitPtr = std::shared_ptr<const SubmitCommand>;
using AbortPtr = std::shared_ptr<const AbortCommand>;
using DeletePtr = std::shared_ptr<const DeleteCommand>;

}  // namespace sluice::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sluice::actors::SubmitPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sluice::actors::AbortPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sluice::actors::DeletePtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sluice::actors::MembersPtr)
