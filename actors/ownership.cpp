#include "actors/ownership.hpp"

#include <algorithm>

namespace sluice::actors {
namespace {

// FNV-1a over both strings, then a 64-bit finaliser so that keys differing in
// one character spread over the whole range. Stable across builds and hosts,
// which std::hash does not promise.
uint64_t weight(std::string_view node_id, std::string_view key) {
  uint64_t h = 14695981039346656037ull;
  const auto mix = [&h](std::string_view text) {
    for (unsigned char c : text) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  mix(node_id);
  h ^= 0xff;  // a separator no UTF-8 text contains
  h *= 1099511628211ull;
  mix(key);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

}  // namespace

MemberList live_members(const std::vector<persistence::NodeRecord>& nodes, int64_t now_ms) {
  MemberList out;
  for (const auto& node : nodes) {
    if (node.lease_expires_at_ms >= now_ms) {
      out.push_back({node.node_id, node.incarnation, node.advertise});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Member& a, const Member& b) { return a.node_id < b.node_id; });
  return out;
}

const Member* owner_of(std::string_view session_key, const MemberList& members) {
  const Member* best = nullptr;
  uint64_t best_weight = 0;
  for (const Member& member : members) {
    const uint64_t w = weight(member.node_id, session_key);
    if (!best || w > best_weight || (w == best_weight && member.node_id < best->node_id)) {
      best = &member;
      best_weight = w;
    }
  }
  return best;
}

}  // namespace sluice::actors
