// Contract: deleting a session's data and purging what retention no longer
// keeps, on every backend; on Postgres, purges of several nodes at once.
#include <latch>
#include <thread>

#include "persistence/postgres_database.hpp"
#include "tests/persistence/store_backends.hpp"

namespace sluice::persistence::testing {
namespace {

using namespace std::chrono_literals;

const SessionKey kKey{"support", "customer/42", "default"};
const SessionKey kOther{"support", "customer/42", "billing"};
const NodeIdentity kNode = node("node-a", "a1");

AdmitResult admit(Fixture& f, const SessionKey& key, const Fence& fence, const std::string& text,
                  int64_t accepted_at, const std::string& idempotency_key = "") {
  NewSubmission submission;
  submission.id = new_id("sub_");
  submission.input_text = text;
  submission.accepted_at_ms = accepted_at;
  if (!idempotency_key.empty()) submission.idempotency = IdempotencyClaim{idempotency_key, "h"};
  return in_transaction(*f.db, [&](Transaction& txn) { return txn.admit(key, fence, submission); });
}

void patch(Fixture& f, const SessionKey& key, const Fence& fence, const std::string& id,
           SubmissionState state, int64_t settled_at = 0) {
  SessionMutation mutation;
  SubmissionPatch change;
  change.id = id;
  change.state = state;
  if (settled_at != 0) change.settled_at_ms = settled_at;
  mutation.patches.push_back(change);
  in_transaction(*f.db, [&](Transaction& txn) { txn.mutate(key, fence, mutation); });
}

void write_history(Fixture& f, const SessionKey& key, const Fence& fence,
                   const SubmissionRecord& submission, int count) {
  SessionMutation mutation;
  for (int i = 0; i < count; ++i) mutation.append.push_back(entry(submission, "user", "text"));
  in_transaction(*f.db, [&](Transaction& txn) { txn.mutate(key, fence, mutation); });
}

bool exists(Fixture& f, const SubmissionRecord& submission) {
  return in_transaction(*f.db,
                        [&](Transaction& txn) {
                          return txn.get_submission(submission.key.agent, submission.key.instance,
                                                    submission.id);
                        })
      .has_value();
}

std::vector<int64_t> sequences(Fixture& f, const SessionKey& key) {
  std::vector<int64_t> out;
  for (const SubmissionRecord& s : f.submissions(key)) out.push_back(s.sequence);
  return out;
}

std::vector<int64_t> history_sequences(Fixture& f, const SessionKey& key) {
  std::vector<int64_t> out;
  for (const HistoryEntry& e : f.history(key)) out.push_back(e.sequence);
  return out;
}

TEST_CASE("delete_session_data removes a session's data through a sequence", "[store][retention]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const Fence fence = f.claim(kKey, kNode);
  const Fence other_fence = f.claim(kOther, kNode);
  std::vector<SubmissionRecord> admitted;
  for (int i = 1; i <= 4; ++i) {
    admitted.push_back(admit(f, kKey, fence, "m", 100, "key-" + std::to_string(i)).record);
    write_history(f, kKey, fence, admitted.back(), 2);
  }
  patch(f, kKey, fence, admitted[0].id, SubmissionState::completed, 200);
  const SubmissionRecord elsewhere = admit(f, kOther, other_fence, "m", 100, "other").record;
  write_history(f, kOther, other_fence, elsewhere, 1);

  SECTION("a stale fence deletes nothing") {
    const Fence stale{kNode.node_id, fence.epoch + 1};
    CHECK_THROWS_AS(
        in_transaction(*f.db, [&](Transaction& txn) { txn.delete_session_data(kKey, stale, 4); }),
        FencedError);
    f.claim(kKey, node("node-b", "b1"));  // node-a was never registered: b takes over
    CHECK_THROWS_AS(
        in_transaction(*f.db, [&](Transaction& txn) { txn.delete_session_data(kKey, fence, 4); }),
        FencedError);
    CHECK(sequences(f, kKey) == std::vector<int64_t>{1, 2, 3, 4});
    CHECK(f.history(kKey).size() == 8);
  }

  SECTION("through a sequence, the rest stays") {
    in_transaction(*f.db, [&](Transaction& txn) { txn.delete_session_data(kKey, fence, 2); });
    CHECK(sequences(f, kKey) == std::vector<int64_t>{3, 4});
    CHECK_FALSE(exists(f, admitted[0]));
    CHECK_FALSE(exists(f, admitted[1]));
    CHECK(exists(f, admitted[2]));
    CHECK(history_sequences(f, kKey) == std::vector<int64_t>{3, 3, 4, 4});
    // The other session of the instance is untouched.
    CHECK(exists(f, elsewhere));
    CHECK(f.history(kOther).size() == 1);
    CHECK(admit(f, kOther, other_fence, "m", 100, "other").status == AdmitStatus::replayed);

    // A deleted submission's key admits anew, with the next sequence; a kept
    // one still replays.
    const AdmitResult again = admit(f, kKey, fence, "m", 300, "key-1");
    CHECK(again.status == AdmitStatus::admitted);
    CHECK(again.record.sequence == 5);
    CHECK(again.record.id != admitted[0].id);
    const AdmitResult kept = admit(f, kKey, fence, "m", 300, "key-3");
    CHECK(kept.status == AdmitStatus::replayed);
    CHECK(kept.record.id == admitted[2].id);
    CHECK(admit(f, kKey, fence, "m", 300).record.sequence == 6);
    // History positions continue after the deleted ones too.
    write_history(f, kKey, fence, again.record, 1);
    CHECK(f.history(kKey).back().position == 9);
  }

  SECTION("everything, then the session goes on") {
    in_transaction(*f.db, [&](Transaction& txn) { txn.delete_session_data(kKey, fence, 4); });
    CHECK(f.submissions(kKey).empty());
    CHECK(f.history(kKey).empty());
    CHECK(admit(f, kKey, fence, "m", 300, "key-4").record.sequence == 5);
    // A claim still reports the length the history had reached.
    const ClaimResult claimed =
        in_transaction(*f.db, [&](Transaction& txn) { return txn.claim_session(kKey, kNode); });
    CHECK(claimed.next_sequence == 6);
    CHECK(claimed.history_length == 8);
  }

  SECTION("after writes of the same transaction") {
    const AdmitResult last = in_transaction(*f.db, [&](Transaction& txn) {
      NewSubmission submission;
      submission.accepted_at_ms = 300;
      submission.id = "sub_in_txn_5";
      submission.idempotency = IdempotencyClaim{"key-5", "h"};
      txn.admit(kKey, fence, submission);
      txn.delete_session_data(kKey, fence, 5);
      submission.id = "sub_in_txn_6";
      submission.idempotency = IdempotencyClaim{"key-5", "h"};
      return txn.admit(kKey, fence, submission);
    });
    CHECK(last.status == AdmitStatus::admitted);
    CHECK(last.record.sequence == 6);
    CHECK(sequences(f, kKey) == std::vector<int64_t>{6});
  }
}

TEST_CASE("purge removes what settled or ended before the cutoff, and only that",
          "[store][retention]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  constexpr int64_t kCutoff = 10'000;
  const Fence fence = f.claim(kKey, kNode);

  // Keys are created when their submission is accepted.
  const auto old_completed = admit(f, kKey, fence, "a", 1'000, "old-completed").record;
  const auto old_failed = admit(f, kKey, fence, "b", 2'000).record;
  // Accepted after the cutoff (as a clock step could do), settled before it:
  // its key goes because its submission does.
  const auto late_key = admit(f, kKey, fence, "c", 20'000, "late-key").record;
  const auto recent_aborted = admit(f, kKey, fence, "d", 10'500, "recent").record;
  const auto old_running = admit(f, kKey, fence, "e", 4'000, "running").record;
  const auto old_queued = admit(f, kKey, fence, "f", 5'000).record;
  const auto new_queued = admit(f, kKey, fence, "g", 15'000, "new-queued").record;
  write_history(f, kKey, fence, old_completed, 3);
  patch(f, kKey, fence, old_completed.id, SubmissionState::completed, 9'000);
  patch(f, kKey, fence, old_failed.id, SubmissionState::failed, 9'999);
  patch(f, kKey, fence, late_key.id, SubmissionState::completed, 8'000);
  patch(f, kKey, fence, recent_aborted.id, SubmissionState::aborted, 11'000);
  patch(f, kKey, fence, old_running.id, SubmissionState::running);

  const auto make_run = [&](const std::string& id) {
    RunRecord run;
    run.run_id = id;
    run.workflow_name = "w";
    run.payload_json = "null";
    run.started_at_ms = 100;
    run.owner_node = kNode.node_id;
    run.owner_incarnation = kNode.incarnation;
    in_transaction(*f.db, [&](Transaction& txn) { txn.create_run(run); });
  };
  const auto end_run = [&](const std::string& id, int events, bool is_error, int64_t at) {
    std::vector<NewRunEvent> list(static_cast<size_t>(events), NewRunEvent{"step", at, "{}"});
    in_transaction(*f.db, [&](Transaction& txn) {
      txn.append_run_events(id, kNode.incarnation, list,
                            RunEnding{is_error, std::nullopt, std::nullopt, at});
    });
  };
  make_run("workflow:w:old");
  end_run("workflow:w:old", 3, false, 9'000);
  make_run("workflow:w:old-error");
  end_run("workflow:w:old-error", 1, true, 9'999);
  make_run("workflow:w:recent");
  end_run("workflow:w:recent", 2, false, 10'000);
  make_run("workflow:w:active");
  in_transaction(*f.db, [&](Transaction& txn) {
    txn.append_run_events("workflow:w:active", kNode.incarnation, {NewRunEvent{"step", 1, "{}"}},
                          std::nullopt);
  });

  const auto purge = [&](int64_t cutoff) {
    return in_transaction(*f.db,
                          [&](Transaction& txn) { return txn.purge_settled_before(cutoff); });
  };
  const PurgeCounts counts = purge(kCutoff);
  CHECK(counts.submissions == 3);       // old_completed, old_failed, late_key
  CHECK(counts.idempotency_keys == 3);  // old-completed, late-key, running (created before)
  CHECK(counts.runs == 2);
  CHECK(counts.run_events == 4);

  CHECK_FALSE(exists(f, old_completed));
  CHECK_FALSE(exists(f, old_failed));
  CHECK_FALSE(exists(f, late_key));
  CHECK(exists(f, recent_aborted));
  CHECK(exists(f, old_running));
  CHECK(exists(f, old_queued));
  CHECK(exists(f, new_queued));
  CHECK(f.history(kKey).size() == 3);  // history is kept

  const auto run = [&](const std::string& id) {
    return in_transaction(*f.db, [&](Transaction& txn) { return txn.get_run(id); });
  };
  const auto run_events = [&](const std::string& id) {
    return in_transaction(*f.db,
                          [&](Transaction& txn) { return txn.read_run_events(id, -1, 100, {}); });
  };
  CHECK_FALSE(run("workflow:w:old").has_value());
  CHECK(run_events("workflow:w:old").empty());
  CHECK_FALSE(run("workflow:w:old-error").has_value());
  CHECK(run("workflow:w:recent").has_value());
  CHECK(run_events("workflow:w:recent").size() == 2);
  REQUIRE(run("workflow:w:active").has_value());
  CHECK(run_events("workflow:w:active").size() == 1);

  // Keys that went admit anew; the ones kept still replay.
  CHECK(admit(f, kKey, fence, "a", 30'000, "old-completed").status == AdmitStatus::admitted);
  CHECK(admit(f, kKey, fence, "e", 30'000, "running").status == AdmitStatus::admitted);
  CHECK(admit(f, kKey, fence, "d", 30'000, "recent").record.id == recent_aborted.id);
  CHECK(admit(f, kKey, fence, "g", 30'000, "new-queued").record.id == new_queued.id);

  // Idempotent: a second pass with the same cutoff finds nothing.
  const PurgeCounts again = purge(kCutoff);
  CHECK(again.submissions == 0);
  CHECK(again.idempotency_keys == 0);
  CHECK(again.runs == 0);
  CHECK(again.run_events == 0);
  // Queued and running work never goes, however old; active runs neither.
  purge(1'000'000);
  CHECK(exists(f, old_running));
  CHECK(exists(f, old_queued));
  CHECK_FALSE(exists(f, recent_aborted));
  CHECK(run("workflow:w:active").has_value());
  CHECK_FALSE(run("workflow:w:recent").has_value());
  CHECK(f.history(kKey).size() == 3);
}

// --- Postgres: every node runs retention --------------------------------------------------

TEST_CASE("postgres: purges of several nodes at once remove everything once",
          "[postgres][retention]") {
  const PostgresTestSchema schema;
  constexpr int kNodes = 4;
  std::vector<std::unique_ptr<PostgresDatabase>> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(PostgresDatabase::connect(schema.url(), 5s));
  Database& db = *nodes[0];
  const Fence fence{kNode.node_id, in_transaction(db, [&](Transaction& txn) {
                                     return txn.claim_session(kKey, kNode);
                                   }).epoch};
  constexpr int kSettled = 200;
  in_transaction(db, [&](Transaction& txn) {
    for (int i = 0; i < kSettled; ++i) {
      NewSubmission submission;
      submission.id = "sub_" + std::to_string(i);
      submission.accepted_at_ms = 1;
      submission.idempotency = IdempotencyClaim{"key-" + std::to_string(i), "h"};
      txn.admit(kKey, fence, submission);
      SessionMutation settle;
      SubmissionPatch done;
      done.id = submission.id;
      done.state = SubmissionState::completed;
      done.settled_at_ms = 2;
      settle.patches.push_back(done);
      txn.mutate(kKey, fence, settle);
      RunRecord run;
      run.run_id = "workflow:w:" + std::to_string(i);
      run.workflow_name = "w";
      run.payload_json = "null";
      run.owner_node = kNode.node_id;
      run.owner_incarnation = kNode.incarnation;
      txn.create_run(run);
      txn.append_run_events(run.run_id, kNode.incarnation, {NewRunEvent{"step", 1, "{}"}},
                            RunEnding{false, std::nullopt, std::nullopt, 2});
    }
  });

  std::vector<PurgeCounts> counts(kNodes);
  std::vector<std::string> errors(kNodes);
  std::latch start(kNodes);
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      const auto index = static_cast<size_t>(i);
      try {
        const auto txn = nodes[index]->begin();
        start.arrive_and_wait();
        counts[index] = txn->purge_settled_before(1'000);
        txn->commit();
      } catch (const std::exception& e) {
        errors[index] = e.what();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  PurgeCounts total;
  for (int i = 0; i < kNodes; ++i) {
    const auto index = static_cast<size_t>(i);
    CHECK(errors[index].empty());
    total.submissions += counts[index].submissions;
    total.idempotency_keys += counts[index].idempotency_keys;
    total.runs += counts[index].runs;
    total.run_events += counts[index].run_events;
  }
  CHECK(total.submissions == kSettled);
  CHECK(total.idempotency_keys == kSettled);
  CHECK(total.runs == kSettled);
  CHECK(total.run_events == kSettled);
  const auto txn = db.begin();
  CHECK(txn->list_submissions(kKey, std::nullopt, Page{0, 1000}).empty());
  RunFilter all;
  all.limit = 1000;
  CHECK(txn->list_runs(all).empty());
}

}  // namespace
}  // namespace sluice::persistence::testing
