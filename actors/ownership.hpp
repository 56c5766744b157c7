#pragma once
// Which live node owns a session: rendezvous (highest random weight) hashing of
// the session key over the members. Every node computes the same answer from
// the same member list, and a member joining or leaving moves only the sessions
// it wins or held. The answer is a proposal: the claim in storage (with its
// fencing epoch) is what confirms ownership.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "persistence/records.hpp"

namespace sluice::actors {

struct Member {
  std::string node_id;
  std::string incarnation;
  std::string advertise;  // host:port of its node-to-node listener

  bool operator==(const Member&) const = default;
};

using MemberList = std::vector<Member>;  // sorted by node id
using MembersPtr = std::shared_ptr<const MemberList>;

// The members whose lease is live at `now_ms`, sorted by node id.
MemberList live_members(const std::vector<persistence::NodeRecord>& nodes, int64_t now_ms);

// The owner among `members` (nullptr when empty). `session_key` is SessionKey::str().
const Member* owner_of(std::string_view session_key, const MemberList& members);

}  // namespace sluice::actors
