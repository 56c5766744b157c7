// DELETE of a session: its unsettled work ends aborted (observers hear it as
// for an abort), then what it admitted before the delete is gone from storage
// and from the session actor's memory, while what came after stays and runs.
#include <catch2/catch.hpp>

#include <thread>

#include "actors/actor_stack.hpp"
#include "actors/history_helpers.hpp"
#include "support/http_client.hpp"
#include "support/node_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace sluice;
using namespace sluice::test;
using nlohmann::json;

namespace {

const HeaderList kJson = {{"Content-Type", "application/json"}};

std::shared_ptr<RecordingSubmission> submit(const actors::SessionGateway& gateway,
                                            const SessionKey& key, const std::string& text) {
  auto observer = std::make_shared<RecordingSubmission>();
  actors::SubmitCommand command;
  command.key = key;
  command.kind = persistence::SubmissionKind::dispatch;
  command.input_text = text;
  command.observer = observer;
  gateway.submit(std::move(command));
  return observer;
}

std::shared_ptr<RecordingDelete> remove(const actors::SessionGateway& gateway,
                                        const SessionKey& key) {
  auto observer = std::make_shared<RecordingDelete>();
  actors::DeleteCommand command;
  command.key = key;
  command.observer = observer;
  gateway.remove(std::move(command));
  return observer;
}

}  // namespace

TEST_CASE("DELETE aborts queued and running work, then empties the session for a fresh start") {
  TestProject project(/*slow_delay_ms=*/1500);
  TestNode node(project.path());
  HttpClient client("127.0.0.1", node.port());
  const std::string base = "/agents/slow/del";

  // A sync prompt that will be running when the delete comes.
  Response running_answer;
  std::thread prompter([&] {
    HttpClient own("127.0.0.1", node.port());
    running_answer = own.request("POST", base, R"({"message":"first words"})", kJson);
  });
  for (int i = 0; i < 500; ++i) {
    auto records = submissions(client, "slow", "del");
    if (!records.empty() && records[0]["state"] == "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  HeaderList keyed = kJson;
  keyed.emplace_back("Idempotency-Key", "k-1");
  auto queued1 = client.request("POST", base + "/dispatch", R"({"input":"second"})", keyed);
  auto queued2 = client.request("POST", base + "/dispatch", R"({"input":"third"})", kJson);
  REQUIRE(queued1.status == 202);
  REQUIRE(queued2.status == 202);
  REQUIRE(submissions(client, "slow", "del").size() == 3);

  auto deleted = client.request("DELETE", base);
  REQUIRE(deleted.status == 202);
  CHECK(deleted.json() == json{{"deleted", true}});
  prompter.join();

  // The running prompt's client got the ordinary aborted outcome.
  CHECK(running_answer.status == 409);
  CHECK(running_answer.json()["error"]["type"] == "submission_aborted");
  const std::string first_id = running_answer.header("X-Sluice-Submission-Id");
  CHECK(!first_id.empty());

  CHECK(history(client, "slow", "del").empty());
  CHECK(submissions(client, "slow", "del").empty());
  for (const std::string& id : {first_id, queued1.json()["submissionId"].get<std::string>(),
                                queued2.json()["submissionId"].get<std::string>()}) {
    auto record = client.request("GET", base + "/submissions/" + id);
    CHECK(record.status == 404);
    CHECK(record.json()["error"]["type"] == "submission_not_found");
  }

  // The key is free again: another body under it is a new admission, not a conflict.
  auto reused = client.request("POST", base + "/dispatch", R"({"input":"other body"})", keyed);
  REQUIRE(reused.status == 202);
  CHECK(reused.json()["sequence"].get<int64_t>() > queued2.json()["sequence"].get<int64_t>());

  // The next prompt runs normally over a conversation holding only what came after.
  auto next = client.request("POST", base, R"({"message":"fresh start"})", kJson);
  REQUIRE(next.status == 200);
  CHECK(next.json()["result"] == "fresh start");
  const auto records = submissions(client, "slow", "del");
  REQUIRE(records.size() == 2);
  CHECK(records[0]["submissionId"] == reused.json()["submissionId"]);
  CHECK(records[1]["sequence"].get<int64_t>() == records[0]["sequence"].get<int64_t>() + 1);
  // sluice/echo counts the words it was shown: "other body" + its reply + "fresh start".
  CHECK(records[1]["usage"]["inputTokens"] == 6);
  const auto entries = history(client, "slow", "del");
  REQUIRE(entries.size() == 4);
  CHECK(entries[0]["text"] == "other body");
  CHECK(entries[2]["text"] == "fresh start");
}

TEST_CASE("DELETE of an empty or unknown session answers 202, and the session works after") {
  TestProject project;
  TestNode node(project.path());
  HttpClient client("127.0.0.1", node.port());
  auto never_used = client.request("DELETE", "/agents/echo/nobody?session=other");
  CHECK(never_used.status == 202);
  CHECK(never_used.json() == json{{"deleted", true}});

  REQUIRE(client.request("POST", "/agents/echo/e", R"({"message":"a b"})", kJson).status == 200);
  REQUIRE(client.request("DELETE", "/agents/echo/e").status == 202);
  REQUIRE(client.request("DELETE", "/agents/echo/e").status == 202);  // nothing left: still fine
  auto after = client.request("POST", "/agents/echo/e", R"({"message":"c"})", kJson);
  REQUIRE(after.status == 200);
  const auto records = submissions(client, "echo", "e");
  REQUIRE(records.size() == 1);
  CHECK(records[0]["sequence"] == 2);
  // "Repeat." (the echo agent's instructions) and "c": nothing of "a b".
  CHECK(records[0]["usage"]["inputTokens"] == 2);
}

TEST_CASE("DELETE touches only its own session") {
  TestProject project;
  TestNode node(project.path());
  HttpClient client("127.0.0.1", node.port());
  REQUIRE(client.request("POST", "/agents/echo/s", R"({"message":"kept","session":"other"})", kJson)
              .status == 200);
  REQUIRE(client.request("POST", "/agents/echo/s", R"({"message":"gone"})", kJson).status == 200);
  REQUIRE(client.request("DELETE", "/agents/echo/s?session=default").status == 202);
  CHECK(history(client, "echo", "s").empty());
  const auto kept = history(client, "echo", "s", "other");
  REQUIRE(kept.size() == 2);
  CHECK(kept[0]["text"] == "kept");
}

TEST_CASE("inputs admitted after the delete arrived survive it, in order, over an empty "
          "conversation") {
  // A database file: its commits take long enough for the delete to arrive
  // while the first submission's start is still being committed, so the inputs
  // after it are admitted while the delete waits for that submission to end.
  TempDir dir("sluice-delete");
  ActorStack stack(/*model_delay_ms=*/300, "sqlite://" + (dir / "sluice.db").string());
  const SessionKey key{"slow", "order", "default"};
  auto first = submit(stack.gateway(), key, "one two three");
  REQUIRE(first->admitted.wait());

  // From one thread: the router sees them in this order, and so does the session.
  auto deletion = remove(stack.gateway(), key);
  auto after1 = submit(stack.gateway(), key, "five six");
  auto after2 = submit(stack.gateway(), key, "seven");

  auto answer = deletion->answer.wait();
  REQUIRE(answer);
  CHECK_FALSE(answer->has_value());
  auto first_outcome = first->settled.wait();
  REQUIRE(first_outcome);
  CHECK(first_outcome->state == persistence::SubmissionState::aborted);

  auto a1 = after1->admitted.wait();
  auto a2 = after2->admitted.wait();
  REQUIRE(a1);
  REQUIRE(a2);
  CHECK(a1->sequence == 2);
  CHECK(a2->sequence == 3);
  auto s1 = after1->settled.wait();
  auto s2 = after2->settled.wait();
  REQUIRE(s1);
  REQUIRE(s2);
  CHECK(s1->state == persistence::SubmissionState::completed);
  CHECK(s2->state == persistence::SubmissionState::completed);
  // The first turn after the delete saw its own input only.
  REQUIRE(s1->usage_json);
  CHECK(json::parse(*s1->usage_json)["inputTokens"] == 2);

  auto records = stack.sync<std::vector<persistence::SubmissionRecord>>(
      [&](persistence::Transaction& txn) {
        return txn.list_submissions(key, std::nullopt, persistence::Page{0, 100});
      });
  REQUIRE(records.size() == 2);
  CHECK(records[0].id == a1->id);
  CHECK(records[1].id == a2->id);
  auto entries = stack.sync<std::vector<persistence::HistoryEntry>>(
      [&](persistence::Transaction& txn) { return txn.read_history(key, {0, 100}); });
  REQUIRE(entries.size() == 4);
  CHECK(entries[0].text == "five six");
  CHECK(entries[0].sequence == 2);
  CHECK(entries[2].text == "seven");
  CHECK(entries[3].sequence == 3);
}
