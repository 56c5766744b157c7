// Contract: who may claim a session while others hold it, lapsed leases, and
// the membership and workload reads, on every backend.
#include "tests/persistence/store_backends.hpp"

namespace sluice::persistence::testing {
namespace {

constexpr int64_t kLiveLease = 60'000;
constexpr int64_t kExpiredLease = -1'000;

void register_node(Fixture& f, const NodeIdentity& me, int64_t lease_ms) {
  in_transaction(*f.db, [&](Transaction& txn) { txn.register_node(me, lease_ms); });
}

ClaimResult claim(Fixture& f, const SessionKey& key, const NodeIdentity& me) {
  return in_transaction(*f.db, [&](Transaction& txn) { return txn.claim_session(key, me); });
}

const SessionKey kKey{"agent", "inst", "s1"};

TEST_CASE("a session held by a live node cannot be claimed by another", "[store][membership]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const NodeIdentity a = node("node-a", "a1");
  const NodeIdentity b = node("node-b", "b1");
  register_node(f, a, kLiveLease);
  register_node(f, b, kLiveLease);

  const ClaimResult first = claim(f, kKey, a);
  REQUIRE(first.granted);
  const Fence fence_a{a.node_id, first.epoch};
  f.admit(kKey, fence_a, "one");

  const ClaimResult refused = claim(f, kKey, b);
  CHECK_FALSE(refused.granted);
  CHECK(refused.holder == "node-a");
  // Nothing changed: the holder keeps writing with its fence.
  CHECK(f.admit(kKey, fence_a, "two").status == AdmitStatus::admitted);

  SECTION("the holder releases it") {
    in_transaction(*f.db, [&](Transaction& txn) { txn.release_session(kKey, fence_a); });
    const ClaimResult taken = claim(f, kKey, b);
    CHECK(taken.granted);
    CHECK(taken.epoch == first.epoch + 1);
    CHECK(taken.unsettled.size() == 2);
  }
  SECTION("the holder's lease expires") {
    register_node(f, a, kExpiredLease);
    CHECK(claim(f, kKey, b).granted);
    CHECK_THROWS_AS(f.admit(kKey, fence_a, "late"), FencedError);
  }
  SECTION("the holder restarted as a new incarnation") {
    register_node(f, node("node-a", "a2"), kLiveLease);
    CHECK(claim(f, kKey, b).granted);
  }
  SECTION("the holder itself may claim again, bumping the epoch") {
    const ClaimResult again = claim(f, kKey, node("node-a", "a2"));
    CHECK(again.granted);
    CHECK(again.epoch == first.epoch + 1);
    CHECK_THROWS_AS(f.admit(kKey, fence_a, "stale"), FencedError);
  }
}

TEST_CASE("a lease that lapsed cannot be renewed", "[store][membership]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const NodeIdentity a = node("node-a", "a1");
  register_node(f, a, kExpiredLease);
  CHECK_FALSE(
      in_transaction(*f.db, [&](Transaction& txn) { return txn.renew_lease(a, kLiveLease); }));
}

TEST_CASE("list_nodes and node_workloads describe the membership", "[store][membership]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  NodeIdentity a = node("node-a", "a1");
  a.advertise = "10.0.0.1:4100";
  const NodeIdentity b = node("node-b", "b1");
  register_node(f, a, kLiveLease);
  register_node(f, b, kExpiredLease);

  const auto nodes = in_transaction(*f.db, [&](Transaction& txn) { return txn.list_nodes(); });
  REQUIRE(nodes.size() == 2);
  CHECK(nodes[0].node_id == "node-a");
  CHECK(nodes[0].incarnation == "a1");
  CHECK(nodes[0].advertise == "10.0.0.1:4100");
  CHECK(nodes[0].lease_expires_at_ms > nodes[1].lease_expires_at_ms);

  const Fence one = f.claim(SessionKey{"agent", "i", "one"}, a);
  f.admit(SessionKey{"agent", "i", "one"}, one, "x");
  f.admit(SessionKey{"agent", "i", "one"}, one, "y");
  f.claim(SessionKey{"agent", "i", "two"}, a);
  f.claim(SessionKey{"agent", "i", "three"}, b);
  const auto loads = in_transaction(*f.db, [&](Transaction& txn) { return txn.node_workloads(); });
  REQUIRE(loads.size() == 2);
  CHECK(loads[0].node_id == "node-a");
  CHECK(loads[0].sessions_owned == 2);
  CHECK(loads[0].unsettled == 2);
  CHECK(loads[1].node_id == "node-b");
  CHECK(loads[1].sessions_owned == 1);
  CHECK(loads[1].unsettled == 0);
}

TEST_CASE("instance_sessions lists one instance's sessions with their work", "[store][membership]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const NodeIdentity a = node("node-a", "a1");
  register_node(f, a, kLiveLease);
  const SessionKey busy{"agent", "i", "busy"};
  const Fence fence = f.claim(busy, a);
  f.admit(busy, fence, "x");
  f.admit(busy, fence, "y");
  in_transaction(*f.db, [&](Transaction& txn) { txn.release_session(busy, fence); });
  f.claim(SessionKey{"agent", "i", "calm"}, a);
  f.claim(SessionKey{"agent", "other", "s"}, a);
  f.claim(SessionKey{"other-agent", "i", "s"}, a);

  const auto sessions = in_transaction(
      *f.db, [&](Transaction& txn) { return txn.instance_sessions("agent", "i"); });
  REQUIRE(sessions.size() == 2);
  CHECK(sessions[0].session == "busy");
  CHECK(sessions[0].owner_node.empty());  // released
  CHECK(sessions[0].queue_depth == 2);
  CHECK_FALSE(sessions[0].running);
  CHECK(sessions[0].last_outcome.empty());
  CHECK(sessions[1].session == "calm");
  CHECK(sessions[1].owner_node == "node-a");
  CHECK(sessions[1].queue_depth == 0);
}

}  // namespace
}  // namespace sluice::persistence::testing
