// Contract: several operations in one transaction behave as if each had been
// committed on its own (a backend may hold writes back until commit, as
// Postgres's batch transaction does), on every backend.
#include "tests/persistence/store_backends.hpp"

namespace sluice::persistence::testing {
namespace {

const SessionKey kKey{"writer", "doc-9", "default"};

NewSubmission new_submission(const std::string& id, const std::string& text,
                             std::optional<IdempotencyClaim> idempotency = std::nullopt) {
  NewSubmission submission;
  submission.id = id;
  submission.input_text = text;
  submission.accepted_at_ms = 1'700'000'000'000;
  submission.idempotency = std::move(idempotency);
  return submission;
}

TEST_CASE("a transaction reads its own writes, applied in order", "[store][transaction]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const Fence fence = f.claim(kKey, node("node-a", "a1"));

  const auto check = [&](Transaction& txn) {
    const auto first = txn.get_submission(kKey.agent, kKey.instance, "sub_1");
    REQUIRE(first.has_value());
    CHECK(first->state == SubmissionState::completed);
    CHECK(first->attempts == 1);
    CHECK(first->input_applied);
    CHECK(first->started_at_ms == 10);
    CHECK(first->settled_at_ms == 20);
    CHECK(first->result_json == std::optional<std::string>(R"({"answer":42})"));
    CHECK(first->last_owner == "node-a");
    const auto listed = txn.list_submissions(kKey, std::nullopt, Page{0, 100});
    REQUIRE(listed.size() == 2);
    CHECK(listed[1].id == "sub_2");
    CHECK(listed[1].state == SubmissionState::queued);
    const auto history = txn.read_history(kKey, Page{0, 100});
    REQUIRE(history.size() == 3);
    CHECK(history[0].status == EntryStatus::interrupted);
    CHECK(history[1].status == EntryStatus::complete);
    CHECK(history[2].text == "42");
  };

  in_transaction(*f.db, [&](Transaction& txn) {
    const SubmissionRecord first = txn.admit(kKey, fence, new_submission("sub_1", "ask")).record;
    const SubmissionRecord second =
        txn.admit(kKey, fence, new_submission("sub_2", "again", IdempotencyClaim{"k", "h"})).record;
    CHECK(second.sequence == 2);

    // Started, then settled: two patches of a row written in this transaction.
    SessionMutation start;
    start.append.push_back(entry(first, "user", "ask"));
    start.append.push_back(entry(first, "assistant", "thinking"));
    SubmissionPatch running;
    running.id = first.id;
    running.state = SubmissionState::running;
    running.attempts = 1;
    running.input_applied = true;
    running.started_at_ms = 10;
    running.last_owner = "node-a";
    start.patches.push_back(running);
    CHECK(txn.mutate(kKey, fence, start) == std::vector<int64_t>{1, 2});

    SessionMutation settle;
    settle.append.push_back(entry(first, "assistant", "42"));
    settle.entry_patches.push_back(EntryPatch{1, EntryStatus::partial});
    settle.entry_patches.push_back(EntryPatch{1, EntryStatus::interrupted});
    SubmissionPatch completed;
    completed.id = first.id;
    completed.state = SubmissionState::completed;
    completed.settled_at_ms = 20;
    completed.result_json = R"({"answer":42})";
    settle.patches.push_back(completed);
    CHECK(txn.mutate(kKey, fence, settle) == std::vector<int64_t>{3});

    // A key admitted earlier in the same transaction replays or conflicts.
    const AdmitResult replay =
        txn.admit(kKey, fence, new_submission("sub_3", "again", IdempotencyClaim{"k", "h"}));
    CHECK(replay.status == AdmitStatus::replayed);
    CHECK(replay.record.id == "sub_2");
    CHECK(txn.admit(kKey, fence, new_submission("sub_4", "other", IdempotencyClaim{"k", "h2"}))
              .status == AdmitStatus::idempotency_conflict);
    check(txn);
  });
  in_transaction(*f.db, check);
  CHECK(f.admit(kKey, fence, "next").record.sequence == 3);
}

TEST_CASE("a transaction's later writes see a patch of an older row", "[store][transaction]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const Fence fence = f.claim(kKey, node("node-a", "a1"));
  const SubmissionRecord old = f.admit(kKey, fence, "old").record;
  SessionMutation append;
  append.append.push_back(entry(old, "user", "old"));
  in_transaction(*f.db, [&](Transaction& txn) { txn.mutate(kKey, fence, append); });

  in_transaction(*f.db, [&](Transaction& txn) {
    SessionMutation first;
    SubmissionPatch aborting;
    aborting.id = old.id;
    aborting.abort_requested = true;
    first.patches.push_back(aborting);
    first.entry_patches.push_back(EntryPatch{1, EntryStatus::partial});
    txn.mutate(kKey, fence, first);
    SessionMutation second;
    SubmissionPatch aborted;
    aborted.id = old.id;
    aborted.state = SubmissionState::aborted;
    aborted.error_json = R"({"type":"aborted"})";
    second.patches.push_back(aborted);
    txn.mutate(kKey, fence, second);
  });
  const auto stored = f.submissions(kKey);
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].abort_requested);
  CHECK(stored[0].state == SubmissionState::aborted);
  CHECK(stored[0].error_json == std::optional<std::string>(R"({"type":"aborted"})"));
  CHECK(f.history(kKey)[0].status == EntryStatus::partial);
}

TEST_CASE("text with quotes, backslashes, braces and NULL survives", "[store][transaction]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  // Every character that means something inside a Postgres array literal.
  const std::string awkward = R"(NULL "q" \b\\ {a,b} ' é)";
  const SessionKey key{"agent " + awkward, "inst " + awkward, awkward};
  const Fence fence = f.claim(key, node("node-a", "a1"));
  NewSubmission submission = new_submission("sub_" + awkward, awkward);
  submission.dispatch_id = "dsp_" + awkward;
  submission.kind = SubmissionKind::dispatch;
  submission.idempotency = IdempotencyClaim{"key " + awkward, "hash " + awkward};
  const SubmissionRecord record = in_transaction(*f.db, [&](Transaction& txn) {
    const SubmissionRecord admitted = txn.admit(key, fence, submission).record;
    SessionMutation mutation;
    HistoryEntry content = entry(admitted, "type " + awkward, awkward);
    content.args_json = R"({"s":"\"\\{}"})";
    mutation.append.push_back(content);
    SubmissionPatch patch;
    patch.id = admitted.id;
    patch.result_json = R"({"s":"\"\\{},NULL"})";
    patch.last_owner = awkward;
    mutation.patches.push_back(patch);
    txn.mutate(key, fence, mutation);
    return admitted;
  });

  const auto stored = f.submissions(key);
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].id == "sub_" + awkward);
  CHECK(stored[0].key == key);
  CHECK(stored[0].dispatch_id == "dsp_" + awkward);
  CHECK(stored[0].input_text == awkward);
  CHECK(stored[0].result_json == std::optional<std::string>(R"({"s":"\"\\{},NULL"})"));
  CHECK(stored[0].last_owner == awkward);
  const auto history = f.history(key);
  REQUIRE(history.size() == 1);
  CHECK(history[0].type == "type " + awkward);
  CHECK(history[0].text == awkward);
  CHECK(history[0].args_json == R"({"s":"\"\\{}"})");
  const AdmitResult replay = f.admit(key, fence, awkward, submission.idempotency);
  CHECK(replay.status == AdmitStatus::replayed);
  CHECK(replay.record.id == record.id);
}

}  // namespace
}  // namespace sluice::persistence::testing
