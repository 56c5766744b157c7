// Contract: history, submission patches, rehydration on claim, paging and reads,
// on every backend.
#include "tests/persistence/store_backends.hpp"

namespace sluice::persistence::testing {
namespace {

const SessionKey kKey{"writer", "doc-7", "default"};

std::vector<int64_t> mutate(Fixture& f, const Fence& fence, const SessionMutation& mutation) {
  return in_transaction(*f.db, [&](Transaction& txn) { return txn.mutate(kKey, fence, mutation); });
}

std::vector<int64_t> positions_of(const std::vector<HistoryEntry>& entries) {
  std::vector<int64_t> out;
  for (const auto& e : entries) out.push_back(e.position);
  return out;
}

std::vector<int64_t> sequences_of(const std::vector<SubmissionRecord>& records) {
  std::vector<int64_t> out;
  for (const auto& r : records) out.push_back(r.sequence);
  return out;
}

TEST_CASE("mutate appends entries at the next positions, content intact", "[store][mutate]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const Fence fence = f.claim(kKey, node("node-a", "a1"));
  const auto sub = f.admit(kKey, fence, "weather?").record;

  SessionMutation first;
  first.append.push_back(entry(sub, "user", "weather?"));
  HistoryEntry call = entry(sub, "tool_call", "");
  call.tool_name = "forecast";
  call.tool_call_id = "call_1";
  call.args_json = R"({"city":"Oslo"})";
  call.status = EntryStatus::partial;
  call.position = 99;  // ignored: the store assigns positions
  first.append.push_back(call);
  HistoryEntry result = entry(sub, "tool_result", "");
  result.tool_call_id = "call_1";
  result.result_json = R"({"error":"timeout"})";
  result.is_error = true;
  first.append.push_back(result);
  CHECK(mutate(f, fence, first) == std::vector<int64_t>{1, 2, 3});

  SessionMutation second;
  second.append.push_back(entry(sub, "assistant", "It is raining."));
  second.append.push_back(entry(sub, "assistant", "Take an umbrella."));
  CHECK(mutate(f, fence, second) == std::vector<int64_t>{4, 5});

  const auto history = f.history(kKey);
  REQUIRE(positions_of(history) == std::vector<int64_t>{1, 2, 3, 4, 5});
  CHECK(history[0].type == "user");
  CHECK(history[0].text == "weather?");
  CHECK(history[0].sequence == sub.sequence);
  CHECK(history[0].submission_id == sub.id);
  CHECK(history[0].timestamp_ms == 1'700'000'000'500);
  CHECK(history[0].status == EntryStatus::complete);
  CHECK(history[1].tool_name == "forecast");
  CHECK(history[1].tool_call_id == "call_1");
  CHECK(history[1].args_json == R"({"city":"Oslo"})");
  CHECK(history[1].status == EntryStatus::partial);
  CHECK(history[1].text.empty());
  CHECK(history[2].result_json == R"({"error":"timeout"})");
  CHECK(history[2].is_error);
  CHECK_FALSE(history[3].is_error);
  CHECK(history[4].text == "Take an umbrella.");
}

TEST_CASE("mutate patches entry status and only the set submission fields", "[store][mutate]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const Fence fence = f.claim(kKey, node("node-a", "a1"));
  const auto sub = f.admit(kKey, fence, "go").record;

  SessionMutation start;
  start.append.push_back(entry(sub, "user", "go"));
  HistoryEntry partial = entry(sub, "assistant", "Half a rep");
  partial.status = EntryStatus::partial;
  start.append.push_back(partial);
  SubmissionPatch running;
  running.id = sub.id;
  running.state = SubmissionState::running;
  running.input_applied = true;
  running.attempts = 1;
  running.started_at_ms = 1000;
  running.last_owner = "node-a";
  start.patches.push_back(running);
  mutate(f, fence, start);

  auto stored = in_transaction(
      *f.db, [&](Transaction& txn) { return txn.get_submission("writer", "doc-7", sub.id); });
  REQUIRE(stored.has_value());
  CHECK(stored->state == SubmissionState::running);
  CHECK(stored->input_applied);
  CHECK(stored->attempts == 1);
  CHECK(stored->started_at_ms == 1000);
  CHECK(stored->settled_at_ms == 0);
  CHECK(stored->last_owner == "node-a");
  CHECK_FALSE(stored->abort_requested);
  CHECK_FALSE(stored->result_json.has_value());

  SessionMutation settle;
  settle.entry_patches.push_back(EntryPatch{2, EntryStatus::interrupted});
  SubmissionPatch done;
  done.id = sub.id;
  done.state = SubmissionState::completed;
  done.settled_at_ms = 2000;
  done.result_json = R"("ok")";
  done.abort_requested = true;
  done.released = true;
  settle.patches.push_back(done);
  CHECK(mutate(f, fence, settle).empty());

  stored = in_transaction(
      *f.db, [&](Transaction& txn) { return txn.get_submission("writer", "doc-7", sub.id); });
  REQUIRE(stored.has_value());
  CHECK(stored->state == SubmissionState::completed);
  CHECK(stored->settled_at_ms == 2000);
  CHECK(stored->result_json == std::optional<std::string>(R"("ok")"));
  CHECK_FALSE(stored->error_json.has_value());
  CHECK(stored->abort_requested);
  CHECK(stored->released);
  CHECK(stored->attempts == 1);  // unset in this patch: unchanged
  CHECK(stored->started_at_ms == 1000);
  CHECK(stored->input_applied);
  const auto history = f.history(kKey);
  REQUIRE(history.size() == 2);
  CHECK(history[0].status == EntryStatus::complete);
  CHECK(history[1].status == EntryStatus::interrupted);
  CHECK(history[1].text == "Half a rep");
}

TEST_CASE("mutate refuses to patch another session's submission", "[store][mutate]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const NodeIdentity a = node("node-a", "a1");
  const SessionKey other{"writer", "doc-7", "notes"};
  const Fence fence = f.claim(kKey, a);
  const Fence other_fence = f.claim(other, a);
  const auto foreign = f.admit(other, other_fence, "not yours").record;

  SessionMutation mutation;
  SubmissionPatch patch;
  patch.id = foreign.id;
  patch.state = SubmissionState::failed;
  mutation.patches.push_back(patch);
  CHECK_THROWS_AS(mutate(f, fence, mutation), StorageFailure);

  SessionMutation missing_entry;
  missing_entry.entry_patches.push_back(EntryPatch{1, EntryStatus::interrupted});
  CHECK_THROWS_AS(mutate(f, fence, missing_entry), StorageFailure);

  CHECK(f.submissions(other)[0].state == SubmissionState::queued);
}

TEST_CASE("claim returns what a new owner needs to rehydrate", "[store][claim]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const Fence fence = f.claim(kKey, node("node-a", "a1"));
  const auto s1 = f.admit(kKey, fence, "one").record;
  const auto s2 = f.admit(kKey, fence, "two").record;
  const auto s3 = f.admit(kKey, fence, "three").record;

  // s1 ran and completed; s2 is running with two entries; s3 is queued.
  SessionMutation m1;
  m1.append = {entry(s1, "user", "one"), entry(s1, "assistant", "done one")};
  SubmissionPatch p1;
  p1.id = s1.id;
  p1.state = SubmissionState::completed;
  m1.patches.push_back(p1);
  mutate(f, fence, m1);
  SessionMutation m2;
  m2.append = {entry(s2, "user", "two"), entry(s2, "tool_call", "")};
  SubmissionPatch p2;
  p2.id = s2.id;
  p2.state = SubmissionState::running;
  p2.input_applied = true;
  m2.patches.push_back(p2);
  mutate(f, fence, m2);

  const ClaimResult claimed = in_transaction(
      *f.db, [&](Transaction& txn) { return txn.claim_session(kKey, node("node-b", "b1")); });
  CHECK(claimed.epoch == fence.epoch + 1);
  CHECK(claimed.next_sequence == 4);
  CHECK(claimed.history_length == 4);
  REQUIRE(claimed.unsettled.size() == 2);
  CHECK(claimed.unsettled[0].id == s2.id);
  CHECK(claimed.unsettled[0].state == SubmissionState::running);
  CHECK(claimed.unsettled[0].input_applied);
  CHECK(claimed.unsettled[1].id == s3.id);
  CHECK(claimed.unsettled[1].input_text == "three");
  REQUIRE(claimed.running_entries.size() == 2);
  CHECK(claimed.running_entries[0].position == 3);
  CHECK(claimed.running_entries[0].text == "two");
  CHECK(claimed.running_entries[1].position == 4);
  CHECK(claimed.running_entries[1].type == "tool_call");
  for (const auto& e : claimed.running_entries) CHECK(e.submission_id == s2.id);
}

TEST_CASE("a first claim creates the session", "[store][claim]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const ClaimResult claimed = in_transaction(
      *f.db, [&](Transaction& txn) { return txn.claim_session(kKey, node("node-a", "a1")); });
  CHECK(claimed.epoch == 1);
  CHECK(claimed.next_sequence == 1);
  CHECK(claimed.history_length == 0);
  CHECK(claimed.unsettled.empty());
  CHECK(claimed.running_entries.empty());
}

TEST_CASE("submissions and history page forward", "[store][paging]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const Fence fence = f.claim(kKey, node("node-a", "a1"));
  std::vector<SubmissionRecord> subs;
  for (int i = 0; i < 5; ++i) subs.push_back(f.admit(kKey, fence, "m").record);
  SessionMutation settle;
  for (int i : {1, 3}) {
    SubmissionPatch patch;
    patch.id = subs[static_cast<size_t>(i)].id;
    patch.state = SubmissionState::completed;
    settle.patches.push_back(patch);
  }
  for (int i = 0; i < 5; ++i) settle.append.push_back(entry(subs[0], "assistant", "x"));
  mutate(f, fence, settle);

  const auto list = [&](std::optional<SubmissionState> state, Page page) {
    return sequences_of(in_transaction(
        *f.db, [&](Transaction& txn) { return txn.list_submissions(kKey, state, page); }));
  };
  CHECK(list(std::nullopt, Page{0, 2}) == std::vector<int64_t>{1, 2});
  CHECK(list(std::nullopt, Page{2, 2}) == std::vector<int64_t>{3, 4});
  CHECK(list(std::nullopt, Page{4, 2}) == std::vector<int64_t>{5});
  CHECK(list(std::nullopt, Page{5, 2}).empty());
  CHECK(list(std::nullopt, Page{0, 0}).empty());
  CHECK(list(SubmissionState::completed, Page{0, 10}) == std::vector<int64_t>{2, 4});
  CHECK(list(SubmissionState::queued, Page{1, 10}) == std::vector<int64_t>{3, 5});
  CHECK(list(SubmissionState::running, Page{0, 10}).empty());

  const auto read = [&](Page page) {
    return positions_of(
        in_transaction(*f.db, [&](Transaction& txn) { return txn.read_history(kKey, page); }));
  };
  CHECK(read(Page{0, 3}) == std::vector<int64_t>{1, 2, 3});
  CHECK(read(Page{3, 3}) == std::vector<int64_t>{4, 5});
  CHECK(read(Page{5, 3}).empty());
}

TEST_CASE("get_submission only answers for the submission's own instance", "[store][read]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  const Fence fence = f.claim(kKey, node("node-a", "a1"));
  const auto sub = f.admit(kKey, fence, "hi").record;
  const auto get = [&](const std::string& agent, const std::string& instance,
                       const std::string& id) {
    return in_transaction(
        *f.db, [&](Transaction& txn) { return txn.get_submission(agent, instance, id); });
  };
  REQUIRE(get("writer", "doc-7", sub.id).has_value());
  CHECK(get("writer", "doc-7", sub.id)->input_text == "hi");
  CHECK_FALSE(get("writer", "doc-8", sub.id).has_value());
  CHECK_FALSE(get("reader", "doc-7", sub.id).has_value());
  CHECK_FALSE(get("writer", "doc-7", "sub_missing").has_value());
}

TEST_CASE("a persistent store keeps everything across a reopen", "[store][durability]") {
  const Backend backend = GENERATE(from_range(backends()));
  INFO("backend: " << backend.name);
  Fixture f(backend);
  if (!f.store->persistent()) return;
  const Fence fence = f.claim(kKey, node("node-a", "a1"));
  const auto sub = f.admit(kKey, fence, "remember me", IdempotencyClaim{"k", "h"}).record;
  SessionMutation mutation;
  mutation.append.push_back(entry(sub, "user", "remember me"));
  mutate(f, fence, mutation);

  f.db = f.store->open();
  const auto stored = f.submissions(kKey);
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].id == sub.id);
  CHECK(stored[0].input_text == "remember me");
  REQUIRE(f.history(kKey).size() == 1);
  CHECK(f.history(kKey)[0].text == "remember me");
  // Ownership and counters survived too.
  CHECK(f.admit(kKey, fence, "again", IdempotencyClaim{"k", "h"}).status == AdmitStatus::replayed);
  CHECK(f.admit(kKey, fence, "next").record.sequence == 2);
}

}  // namespace
}  // namespace sluice::persistence::testing
