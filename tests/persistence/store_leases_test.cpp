// Contract: node registration, leases and the orphan scan, on every backend.
#include <algorithm>

#include "tests/persistence/store_backends.hpp"

namespace sluice::persistence::testing {
namespace {

constexpr int64_t kLiveLease = 60'000;
// A lease that ended a second before it was granted: deterministic expiry
// without sleeping.
constexpr int64_t kExpiredLease = -1'000;

bool renew(Fixture& f, const NodeIdentity& me) {
  return in_transaction(*f.db, [&](Transaction& txn) { return txn.renew_lease(me, kLiveLease); });
}

void register_node(Fixture& f, const NodeIdentity& me, int64_t lease_ms) {
  in_transaction(*f.db, [&](Transaction& txn) { txn.register_node(me, lease_ms); });
}

std::vector<std::string> orphans(Fixture& f, const NodeIdentity& me, int limit = 100) {
  const auto keys =
      in_transaction(*f.db, [&](Transaction& txn) { return txn.orphaned_sessions(me, limit); });
  std::vector<std::string> out;
  for (const auto& key : keys) out.push_back(key.str());
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("a lease renews only for the registered incarnation", "[store][lease]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const NodeIdentity first = node("node-a", "a1");
  const NodeIdentity restarted = node("node-a", "a2");

  CHECK_FALSE(renew(f, first));  // never registered
  register_node(f, first, kLiveLease);
  CHECK(renew(f, first));

  register_node(f, restarted, kLiveLease);
  CHECK_FALSE(renew(f, first));
  CHECK(renew(f, restarted));

  // The old incarnation cannot remove the new one's row.
  in_transaction(*f.db, [&](Transaction& txn) { txn.deregister_node(first); });
  CHECK(renew(f, restarted));
  in_transaction(*f.db, [&](Transaction& txn) { txn.deregister_node(restarted); });
  CHECK_FALSE(renew(f, restarted));
}

TEST_CASE("orphaned_sessions finds work whose owner is gone, and only that", "[store][lease]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const NodeIdentity me = node("node-m", "m2");
  const NodeIdentity my_previous_run = node("node-m", "m1");
  const NodeIdentity expired = node("node-x", "x1");
  const NodeIdentity live = node("node-y", "y1");
  const NodeIdentity unregistered = node("node-z", "z1");
  register_node(f, me, kLiveLease);
  register_node(f, expired, kExpiredLease);
  register_node(f, live, kLiveLease);

  const auto session = [](const std::string& name) { return SessionKey{"agent", "i", name}; };
  const auto with_work = [&](const std::string& name, const NodeIdentity& owner) {
    const Fence fence = f.claim(session(name), owner);
    f.admit(session(name), fence, "work");
    return fence;
  };
  with_work("previous-run", my_previous_run);
  with_work("expired", expired);
  with_work("live", live);
  with_work("mine", me);
  const Fence released = with_work("released", live);
  in_transaction(*f.db,
                 [&](Transaction& txn) { txn.release_session(session("released"), released); });
  // Running (not just queued) work of an owner with no node row at all.
  const Fence missing = with_work("unregistered", unregistered);
  SessionMutation start;
  SubmissionPatch running;
  running.id = f.submissions(session("unregistered"))[0].id;
  running.state = SubmissionState::running;
  start.patches.push_back(running);
  in_transaction(*f.db,
                 [&](Transaction& txn) { txn.mutate(session("unregistered"), missing, start); });
  // A dead owner whose work is all settled leaves nothing to recover.
  const Fence settled = with_work("settled", my_previous_run);
  SessionMutation finish;
  SubmissionPatch completed;
  completed.id = f.submissions(session("settled"))[0].id;
  completed.state = SubmissionState::completed;
  finish.patches.push_back(completed);
  in_transaction(*f.db, [&](Transaction& txn) { txn.mutate(session("settled"), settled, finish); });

  CHECK(orphans(f, me) == std::vector<std::string>{"agent/i/expired", "agent/i/previous-run",
                                                   "agent/i/released", "agent/i/unregistered"});
  CHECK(orphans(f, me, 2).size() == 2);

  // Once the live node's lease lapses, its sessions are orphans too.
  register_node(f, live, kExpiredLease);
  CHECK(orphans(f, me).size() == 5);
  // The rule is symmetric: seen by the other incarnation, "mine" is the orphan
  // and "previous-run" is not.
  const auto seen_by_previous = orphans(f, my_previous_run);
  CHECK(std::count(seen_by_previous.begin(), seen_by_previous.end(), "agent/i/mine") == 1);
  CHECK(std::count(seen_by_previous.begin(), seen_by_previous.end(), "agent/i/previous-run") == 0);
}

}  // namespace
}  // namespace sluice::persistence::testing
