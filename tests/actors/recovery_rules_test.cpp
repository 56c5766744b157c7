// Each recovery rule of PROTOCOL.md, against the real SQLite store: a dead
// owner's state is written to a database file, then a new incarnation of the
// node starts on it and must settle or continue every submission by the rules.
#include <catch2/catch.hpp>

#include <thread>

#include "actors/history_helpers.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "persistence/executor.hpp"
#include "persistence/open_database.hpp"
#include "support/http_client.hpp"
#include "support/node_fixture.hpp"

using namespace sluice;
using namespace sluice::test;
using namespace sluice::persistence;
using nlohmann::json;

namespace {

const SessionKey kKey{"echo", "r", "default"};

// What the dead owner left behind, written through the store's own API.
class DeadOwner {
 public:
  explicit DeadOwner(const std::string& url)
      : storage_(open_database(url), StorageExecutor::Options{}) {
    auto claim = sync<ClaimResult>([&](Transaction& t) { return t.claim_session(kKey, me_); });
    fence_ = {me_.node_id, claim.epoch};
    sync<bool>([&](Transaction& t) {
      t.register_node(me_, 60'000);
      return true;
    });
  }

  SubmissionRecord admit(const std::string& text) {
    NewSubmission submission;
    submission.id = new_id("sub_");
    submission.input_text = text;
    submission.accepted_at_ms = now_ms();
    return sync<AdmitResult>([&](Transaction& t) { return t.admit(kKey, fence_, submission); })
        .record;
  }

  // The submission as a run that got as far as `attempts` and applied its input.
  void start(const SubmissionRecord& record, int attempts, bool input_applied,
             int64_t started_at_ms = now_ms()) {
    SessionMutation mutation;
    SubmissionPatch patch;
    patch.id = record.id;
    patch.state = SubmissionState::running;
    patch.attempts = attempts;
    patch.input_applied = input_applied;
    patch.started_at_ms = started_at_ms;
    patch.last_owner = me_.node_id;
    mutation.patches.push_back(patch);
    if (input_applied) mutation.append.push_back(entry(record, "user", record.input_text));
    mutate(mutation);
  }

  void append(const SubmissionRecord& record, const std::string& type, const std::string& text,
              EntryStatus status = EntryStatus::complete) {
    SessionMutation mutation;
    mutation.append.push_back(entry(record, type, text, status));
    mutate(mutation);
  }

  void append_tool_call(const SubmissionRecord& record, const std::string& id) {
    SessionMutation mutation;
    HistoryEntry call = entry(record, "tool_call", "");
    call.tool_name = "bash";
    call.tool_call_id = id;
    call.args_json = R"({"command":"rm -rf build"})";
    mutation.append.push_back(call);
    mutate(mutation);
  }

  void patch(SubmissionPatch patch) {
    SessionMutation mutation;
    mutation.patches.push_back(std::move(patch));
    mutate(mutation);
  }

 private:
  template <class R, class F>
  R sync(F work) {
    auto result = storage_.run_sync<R>(work);
    REQUIRE(std::holds_alternative<R>(result));
    return std::get<R>(result);
  }

  void mutate(const SessionMutation& mutation) {
    sync<std::vector<int64_t>>([&](Transaction& t) { return t.mutate(kKey, fence_, mutation); });
  }

  static HistoryEntry entry(const SubmissionRecord& record, const std::string& type,
                            const std::string& text, EntryStatus status = EntryStatus::complete) {
    HistoryEntry e;
    e.sequence = record.sequence;
    e.submission_id = record.id;
    e.type = type;
    e.text = text;
    e.status = status;
    e.timestamp_ms = now_ms();
    return e;
  }

  NodeIdentity me_{"test-node", "dead-incarnation", ""};
  StorageExecutor storage_;
  Fence fence_;
};

const HeaderList kJson = {{"Content-Type", "application/json"}};

// Starts the new incarnation and waits until every submission of the session settled.
std::vector<json> recover(const std::string& url, const TestProject& project,
                          std::unique_ptr<TestNode>& node, std::unique_ptr<HttpClient>& client) {
  node = std::make_unique<TestNode>(project.path(),
                                    TestNode::Env{{"SLUICE_RECLAIM_INTERVAL_MS", "50"}}, url);
  client = std::make_unique<HttpClient>("127.0.0.1", node->port());
  std::vector<json> records;
  for (int i = 0; i < 1000; ++i) {
    records = submissions(*client, "echo", "r");
    bool settled = !records.empty();
    for (auto& r : records) {
      settled = settled && r["state"] != "queued" && r["state"] != "running";
    }
    if (settled) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return records;
}

struct Recovered {
  TempDir dir{"sluice-recovery"};
  std::string url = "sqlite://" + (dir / "sluice.db").string();
  TestProject project;
  std::unique_ptr<TestNode> node;
  std::unique_ptr<HttpClient> client;
  std::vector<json> records;
  std::vector<json> entries;

  void run() {
    records = recover(url, project, node, client);
    entries = history(*client, "echo", "r");
  }
};

}  // namespace

TEST_CASE("recovery: input never applied is requeued in place for a clean attempt") {
  Recovered r;
  {
    DeadOwner dead(r.url);
    auto first = dead.admit("first");
    dead.start(first, 1, /*input_applied=*/false);
    dead.admit("second");
  }
  r.run();
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[0]["state"] == "completed");
  CHECK(r.records[0]["result"] == "first");
  CHECK(r.records[1]["state"] == "completed");
  REQUIRE(r.entries.size() == 4);
  CHECK(r.entries[0]["text"] == "first");
  CHECK(r.entries[2]["text"] == "second");
}

TEST_CASE("recovery: a recorded response settles completed and is never redone") {
  Recovered r;
  {
    DeadOwner dead(r.url);
    auto first = dead.admit("question");
    dead.start(first, 1, true);
    dead.append(first, "assistant", "the recorded answer");
  }
  r.run();
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0]["state"] == "completed");
  CHECK(r.records[0]["result"] == "the recorded answer");  // not re-run: echo would say "question"
  CHECK(r.records[0]["attempts"] == 1);
  CHECK(r.entries.size() == 2);
}

TEST_CASE("recovery: work released at a turn boundary continues without using an attempt") {
  Recovered r;
  {
    DeadOwner dead(r.url);
    auto first = dead.admit("handed over");
    dead.start(first, 2, true);
    SubmissionPatch released;
    released.id = first.id;
    released.released = true;
    dead.patch(released);
  }
  r.run();
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0]["state"] == "completed");
  CHECK(r.records[0]["attempts"] == 2);
  REQUIRE(r.entries.size() == 2);  // the user message is not applied twice
  CHECK(r.entries[0]["type"] == "user");
  CHECK(r.entries[1]["text"] == "handed over");
}

TEST_CASE("recovery: a partial reply is kept, marked interrupted, and the turn continues") {
  Recovered r;
  {
    DeadOwner dead(r.url);
    auto first = dead.admit("long answer");
    dead.start(first, 1, true);
    dead.append(first, "assistant", "long", EntryStatus::partial);
  }
  r.run();
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0]["state"] == "completed");
  CHECK(r.records[0]["attempts"] == 2);
  REQUIRE(r.entries.size() == 4);
  CHECK(r.entries[1]["type"] == "assistant");
  CHECK(r.entries[1]["text"] == "long");
  CHECK(r.entries[1]["status"] == "interrupted");
  CHECK(r.entries[2]["type"] == "interruption");
  CHECK(r.entries[3]["type"] == "assistant");
  CHECK(r.entries[3]["text"] == "long answer");
}

TEST_CASE("recovery: an interrupted turn runs again, applying its input only once") {
  Recovered r;
  {
    DeadOwner dead(r.url);
    auto first = dead.admit("again");
    dead.start(first, 1, true);
  }
  r.run();
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0]["state"] == "completed");
  CHECK(r.records[0]["attempts"] == 2);
  REQUIRE(r.entries.size() == 2);
}

TEST_CASE("recovery: a requested abort settles aborted, queued or running") {
  Recovered r;
  {
    DeadOwner dead(r.url);
    auto running = dead.admit("running");
    dead.start(running, 1, true);
    auto queued = dead.admit("queued");
    for (const auto* record : {&running, &queued}) {
      SubmissionPatch intent;
      intent.id = record->id;
      intent.abort_requested = true;
      dead.patch(intent);
    }
    dead.admit("after");
  }
  r.run();
  REQUIRE(r.records.size() == 3);
  CHECK(r.records[0]["state"] == "aborted");
  CHECK(r.records[1]["state"] == "aborted");
  CHECK(r.records[2]["state"] == "completed");  // the queue behind is not wedged
}

TEST_CASE("recovery: an exhausted attempt budget fails visibly, and the queue moves on") {
  Recovered r;
  {
    DeadOwner dead(r.url);
    auto first = dead.admit("crashes every time");
    dead.start(first, 3, true);  // SLUICE_MAX_ATTEMPTS defaults to 3
    dead.admit("next");
  }
  r.run();
  REQUIRE(r.records.size() == 2);
  CHECK(r.records[0]["state"] == "failed");
  CHECK(r.records[0]["error"]["meta"]["reason"] == "exhausted_retry_budget");
  CHECK(r.records[1]["state"] == "completed");
  REQUIRE(r.entries.size() == 4);
  CHECK(r.entries[1]["type"] == "interruption");
  CHECK(r.entries[1]["submissionId"] == r.records[0]["submissionId"]);
}

TEST_CASE("recovery: a submission past its wall-clock timeout fails visibly") {
  Recovered r;
  {
    DeadOwner dead(r.url);
    auto first = dead.admit("too old");
    dead.start(first, 1, true, now_ms() - 2 * 600'000);
  }
  r.run();
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0]["state"] == "failed");
  CHECK(r.records[0]["error"]["meta"]["reason"] == "exceeded_timeout");
  REQUIRE(r.entries.size() == 2);
  CHECK(r.entries[1]["type"] == "interruption");
}

TEST_CASE("recovery: a tool call without a result gets an unknown-outcome result and is not rerun") {
  Recovered r;
  {
    DeadOwner dead(r.url);
    auto first = dead.admit("clean up");
    dead.start(first, 1, true);
    dead.append(first, "assistant", "");
    dead.append_tool_call(first, "call_1");
  }
  r.run();
  REQUIRE(r.records.size() == 1);
  CHECK(r.records[0]["state"] == "completed");
  CHECK(r.records[0]["attempts"] == 2);
  REQUIRE(r.entries.size() == 5);
  CHECK(r.entries[2]["type"] == "tool_call");
  CHECK(r.entries[3]["type"] == "tool_result");
  CHECK(r.entries[3]["toolCallId"] == "call_1");
  CHECK(r.entries[3]["isError"] == true);
  CHECK(r.entries[3]["result"].get<std::string>().find("may or may not") != std::string::npos);
  CHECK(r.entries[4]["type"] == "assistant");
}
