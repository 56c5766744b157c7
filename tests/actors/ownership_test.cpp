#include <catch2/catch.hpp>

#include <map>

#include "actors/ownership.hpp"

using namespace sluice::actors;

namespace {

MemberList members(int n) {
  MemberList out;
  for (int i = 0; i < n; ++i) out.push_back({"node-" + std::to_string(i), "inc", ""});
  return out;
}

std::string key(int i) {
  return "agent/inst/s" + std::to_string(i);
}

}  // namespace

TEST_CASE("rendezvous ownership spreads sessions and moves few when members change",
          "[ownership]") {
  const MemberList three = members(3);
  std::map<std::string, int> share;
  for (int i = 0; i < 3000; ++i) ++share[owner_of(key(i), three)->node_id];
  REQUIRE(share.size() == 3);
  for (const auto& [node, count] : share) {
    INFO(node);
    CHECK(count > 800);  // an even share is 1000
  }

  // A fourth member takes only sessions from the others; none move between them.
  const MemberList four = members(4);
  int moved = 0;
  for (int i = 0; i < 3000; ++i) {
    const std::string before = owner_of(key(i), three)->node_id;
    const std::string after = owner_of(key(i), four)->node_id;
    if (before != after) {
      CHECK(after == "node-3");
      ++moved;
    }
  }
  CHECK(moved > 500);
  CHECK(moved < 1000);

  // Losing a member moves only its sessions.
  const MemberList without_one = {three[0], three[2]};
  for (int i = 0; i < 3000; ++i) {
    const std::string before = owner_of(key(i), three)->node_id;
    if (before != "node-1") CHECK(owner_of(key(i), without_one)->node_id == before);
  }
  CHECK(owner_of(key(1), MemberList{}) == nullptr);
}

TEST_CASE("live_members keeps unexpired leases, sorted by node id", "[ownership]") {
  std::vector<sluice::persistence::NodeRecord> rows = {
      {"b", "b1", "h:2", 2000, 0}, {"a", "a1", "h:1", 1000, 0}, {"c", "c1", "h:3", 999, 0}};
  const MemberList live = live_members(rows, 1000);
  REQUIRE(live.size() == 2);
  CHECK(live[0].node_id == "a");
  CHECK(live[1].node_id == "b");
  CHECK(live[1].advertise == "h:2");
}
