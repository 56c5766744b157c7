// Contract: admission order, fencing and idempotency, on every backend.
#include "tests/persistence/store_backends.hpp"

namespace sluice::persistence::testing {
namespace {

const SessionKey kKey{"support", "customer/42", "default"};

TEST_CASE("admission assigns sequences 1..n in order", "[store][admit]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const Fence fence = f.claim(kKey, node("node-a", "a1"));

  std::vector<std::string> ids;
  for (int i = 1; i <= 5; ++i) {
    const AdmitResult admitted = f.admit(kKey, fence, "message " + std::to_string(i));
    REQUIRE(admitted.status == AdmitStatus::admitted);
    CHECK(admitted.record.sequence == i);
    CHECK(admitted.record.state == SubmissionState::queued);
    CHECK(admitted.record.attempts == 0);
    ids.push_back(admitted.record.id);
  }

  const auto stored = f.submissions(kKey);
  REQUIRE(stored.size() == 5);
  for (size_t i = 0; i < stored.size(); ++i) {
    CHECK(stored[i].id == ids[i]);
    CHECK(stored[i].sequence == static_cast<int64_t>(i + 1));
    CHECK(stored[i].input_text == "message " + std::to_string(i + 1));
    CHECK(stored[i].key == kKey);
    CHECK(stored[i].state == SubmissionState::queued);
    CHECK(stored[i].kind == SubmissionKind::direct);
    CHECK(stored[i].dispatch_id.empty());
    CHECK(stored[i].accepted_at_ms == 1'700'000'000'000);
    CHECK_FALSE(stored[i].result_json.has_value());
  }

  // Sessions count independently.
  const SessionKey other{"support", "customer/42", "billing"};
  const Fence other_fence = f.claim(other, node("node-a", "a1"));
  CHECK(f.admit(other, other_fence, "first").record.sequence == 1);
  CHECK(f.admit(kKey, fence, "sixth").record.sequence == 6);
}

TEST_CASE("a dispatch keeps its kind and dispatch id", "[store][admit]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const Fence fence = f.claim(kKey, node("node-a", "a1"));
  NewSubmission submission{"sub_1", "dsp_1", SubmissionKind::dispatch, "{\"x\":1}", 77, {}};
  in_transaction(*f.db, [&](Transaction& txn) { return txn.admit(kKey, fence, submission); });

  const auto stored = in_transaction(*f.db, [&](Transaction& txn) {
    return txn.get_submission("support", "customer/42", "sub_1");
  });
  REQUIRE(stored.has_value());
  CHECK(stored->kind == SubmissionKind::dispatch);
  CHECK(stored->dispatch_id == "dsp_1");
  CHECK(stored->input_text == "{\"x\":1}");
  CHECK(stored->accepted_at_ms == 77);
}

TEST_CASE("a claim by another identity fences the previous owner out", "[store][fence]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const NodeIdentity a = node("node-a", "a1");
  const NodeIdentity b = node("node-b", "b1");

  const Fence old_fence = f.claim(kKey, a);
  CHECK(old_fence.epoch == 1);
  const auto first = f.admit(kKey, old_fence, "before the takeover").record;
  SessionMutation applied;
  applied.append.push_back(entry(first, "user", "before the takeover"));
  in_transaction(*f.db, [&](Transaction& txn) { txn.mutate(kKey, old_fence, applied); });

  const Fence new_fence = f.claim(kKey, b);
  CHECK(new_fence.epoch == 2);

  CHECK_THROWS_AS(f.admit(kKey, old_fence, "stale"), FencedError);

  SessionMutation stale;
  stale.append.push_back(entry(first, "assistant", "stale reply"));
  SubmissionPatch settle;
  settle.id = first.id;
  settle.state = SubmissionState::completed;
  stale.patches.push_back(settle);
  CHECK_THROWS_AS(
      in_transaction(*f.db, [&](Transaction& txn) { txn.mutate(kKey, old_fence, stale); }),
      FencedError);
  SessionMutation patch_only;
  patch_only.patches.push_back(settle);
  CHECK_THROWS_AS(
      in_transaction(*f.db, [&](Transaction& txn) { txn.mutate(kKey, old_fence, patch_only); }),
      FencedError);
  CHECK_THROWS_AS(
      in_transaction(*f.db, [&](Transaction& txn) { txn.release_session(kKey, old_fence); }),
      FencedError);

  // Nothing the stale owner tried is visible, and no sequence or position was used.
  const auto stored = f.submissions(kKey);
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].state == SubmissionState::queued);
  REQUIRE(f.history(kKey).size() == 1);
  CHECK(f.admit(kKey, new_fence, "after the takeover").record.sequence == 2);
  const auto positions =
      in_transaction(*f.db, [&](Transaction& txn) { return txn.mutate(kKey, new_fence, applied); });
  CHECK(positions == std::vector<int64_t>{2});
}

TEST_CASE("re-claiming by the same node still invalidates the older epoch", "[store][fence]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const Fence first = f.claim(kKey, node("node-a", "a1"));
  const Fence second = f.claim(kKey, node("node-a", "a2"));
  CHECK(second.epoch == first.epoch + 1);
  CHECK_THROWS_AS(f.admit(kKey, first, "stale"), FencedError);
  CHECK(f.admit(kKey, second, "fresh").record.sequence == 1);
}

TEST_CASE("writes to a session nobody claimed are fenced", "[store][fence]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const Fence invented{"node-a", 1};
  CHECK_THROWS_AS(f.admit(kKey, invented, "hello"), FencedError);
  CHECK_THROWS_AS(
      in_transaction(*f.db,
                     [&](Transaction& txn) { txn.mutate(kKey, invented, SessionMutation{}); }),
      FencedError);
  CHECK(f.submissions(kKey).empty());
}

TEST_CASE("a released session refuses its last owner's writes", "[store][fence]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const Fence fence = f.claim(kKey, node("node-a", "a1"));
  in_transaction(*f.db, [&](Transaction& txn) { txn.release_session(kKey, fence); });
  CHECK_THROWS_AS(f.admit(kKey, fence, "after release"), FencedError);
  const Fence again = f.claim(kKey, node("node-a", "a1"));
  CHECK(again.epoch == fence.epoch + 1);
  CHECK(f.admit(kKey, again, "after reclaim").record.sequence == 1);
}

TEST_CASE("an idempotency key replays its original submission", "[store][idempotency]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const Fence fence = f.claim(kKey, node("node-a", "a1"));

  const AdmitResult original =
      f.admit(kKey, fence, "pay invoice", IdempotencyClaim{"k1", "hash-1"});
  REQUIRE(original.status == AdmitStatus::admitted);

  const AdmitResult replay = f.admit(kKey, fence, "pay invoice", IdempotencyClaim{"k1", "hash-1"});
  CHECK(replay.status == AdmitStatus::replayed);
  CHECK(replay.record.id == original.record.id);
  CHECK(replay.record.sequence == 1);
  CHECK(replay.record.input_text == "pay invoice");

  const AdmitResult conflict = f.admit(kKey, fence, "other body", IdempotencyClaim{"k1", "hash-2"});
  CHECK(conflict.status == AdmitStatus::idempotency_conflict);
  CHECK(conflict.record.id.empty());

  // Neither the replay nor the conflict took a sequence or wrote a submission.
  CHECK(f.submissions(kKey).size() == 1);
  CHECK(f.admit(kKey, fence, "next").record.sequence == 2);
}

TEST_CASE("idempotency keys are scoped to the agent instance", "[store][idempotency]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const NodeIdentity a = node("node-a", "a1");
  const SessionKey other_session{kKey.agent, kKey.instance, "side"};
  const SessionKey other_instance{kKey.agent, "customer/43", "default"};
  const SessionKey other_agent{"sales", kKey.instance, "default"};
  const Fence fence = f.claim(kKey, a);
  const Fence session_fence = f.claim(other_session, a);
  const Fence instance_fence = f.claim(other_instance, a);
  const Fence agent_fence = f.claim(other_agent, a);

  const auto original = f.admit(kKey, fence, "x", IdempotencyClaim{"k", "h"}).record;

  // Another session of the same instance shares the key space.
  const AdmitResult same_instance =
      f.admit(other_session, session_fence, "x", IdempotencyClaim{"k", "h"});
  CHECK(same_instance.status == AdmitStatus::replayed);
  CHECK(same_instance.record.id == original.id);
  CHECK(same_instance.record.key == kKey);

  const AdmitResult instance =
      f.admit(other_instance, instance_fence, "x", IdempotencyClaim{"k", "h"});
  CHECK(instance.status == AdmitStatus::admitted);
  CHECK(instance.record.id != original.id);
  const AdmitResult agent = f.admit(other_agent, agent_fence, "x", IdempotencyClaim{"k", "h"});
  CHECK(agent.status == AdmitStatus::admitted);
}

TEST_CASE("a stale owner cannot learn from a replay", "[store][idempotency][fence]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const Fence old_fence = f.claim(kKey, node("node-a", "a1"));
  f.admit(kKey, old_fence, "x", IdempotencyClaim{"k", "h"});
  f.claim(kKey, node("node-b", "b1"));
  CHECK_THROWS_AS(f.admit(kKey, old_fence, "x", IdempotencyClaim{"k", "h"}), FencedError);
}

}  // namespace
}  // namespace sluice::persistence::testing
