// Context compaction: a conversation that outgrows the model's context window
// is summarised by the same model, the summary is recorded in the history,
// and the turn that overflowed runs again over the summary. The offline
// sluice/scripted model plays a model with a small context (context_words).
#include <catch2/catch.hpp>

#include "actors/compaction.hpp"
#include "actors/history_helpers.hpp"
#include "support/http_client.hpp"
#include "support/node_fixture.hpp"

using namespace sluice::test;
using nlohmann::json;
using sluice::persistence::HistoryEntry;

namespace {

const HeaderList kJson = {{"Content-Type", "application/json"}};

// Ten words each; the scripted reply "{users}: {last_user}" adds eleven.
std::string message(int n) {
  return "message " + std::to_string(n) + " has exactly ten words in it all right";
}

json prompt(HttpClient& client, int n) {
  auto response = client.request("POST", "/agents/small/c1",
                                 json({{"message", message(n)}}).dump(), kJson);
  INFO(response.body);
  REQUIRE(response.status == 200);
  return response.json()["result"];
}

HistoryEntry entry(int64_t position, const std::string& submission, const std::string& type) {
  HistoryEntry e;
  e.position = position;
  e.submission_id = submission;
  e.type = type;
  e.text = type + std::to_string(position);
  return e;
}

}  // namespace

TEST_CASE("an overflowing conversation is summarised, recorded, and the turn carries on") {
  TestProject project;
  project.write_agent("small",
                      "model = \"sluice/scripted\"\nexpose = [\"http\"]\n[model_options]\n"
                      "loop = true\ncontext_words = 50\n"
                      "[[model_options.turns]]\ntext = \"{users}: {last_user}\"\n");
  TestNode node(project.path());
  HttpClient client("127.0.0.1", node.port());
  CHECK(prompt(client, 1) == "1: " + message(1));
  CHECK(prompt(client, 2) == "2: " + message(2));

  // 52 words: over the limit. The summary stands in for the first two
  // exchanges, so the model now sees two user messages: the summary and this.
  auto stream = client.open_sse("POST", "/agents/small/c1",
                                json({{"message", message(3)}}).dump(), kJson);
  REQUIRE(stream.status() == 200);
  std::vector<std::string> types;
  json result, compaction;
  while (auto event = stream.next(10s)) {
    types.push_back(event->event);
    if (event->event == "operation") result = event->json()["result"];
    if (event->event == "compaction") compaction = event->json();
  }
  CHECK(result == "2: " + message(3));
  const auto at = [&](const std::string& type) {
    return std::find(types.begin(), types.end(), type) - types.begin();
  };
  CHECK(at("compaction_start") < at("compaction"));
  CHECK(at("compaction") < at("text_delta"));
  CHECK(compaction["compactedThrough"] == 4);

  auto entries = history(client, "small", "c1");
  REQUIRE(entries.size() == 7);  // u a u a u compaction a: nothing dropped
  CHECK(entries[5]["type"] == "compaction");
  CHECK(entries[5]["compactedThrough"] == 4);
  CHECK(entries[5]["text"].get<std::string>().starts_with("Summary of "));
  CHECK(entries[4]["text"] == message(3));
  CHECK(entries[6]["type"] == "assistant");

  CHECK(prompt(client, 4) == "3: " + message(4));
  // Over again: the second summary covers the first one and what followed it.
  CHECK(prompt(client, 5) == "2: " + message(5));
  entries = history(client, "small", "c1");
  REQUIRE(entries.size() == 12);
  CHECK(entries[10]["type"] == "compaction");
  CHECK(entries[10]["compactedThrough"] == 9);
}

TEST_CASE("a compaction cut keeps the running submission whole when it can") {
  using sluice::actors::compaction_cut;
  using sluice::actors::model_conversation;
  std::vector<HistoryEntry> history = {entry(1, "s1", "user"), entry(2, "s1", "assistant"),
                                       entry(3, "s2", "user")};
  CHECK(compaction_cut(history, "s2") == 2u);

  SECTION("a single submission that overflows loses its older tool rounds, never a pair") {
    history = {entry(1, "s1", "user"),        entry(2, "s1", "assistant"),
               entry(3, "s1", "tool_call"),   entry(4, "s1", "tool_result"),
               entry(5, "s1", "assistant"),   entry(6, "s1", "tool_call"),
               entry(7, "s1", "tool_result")};
    CHECK(compaction_cut(history, "s1") == 4u);  // the kept part starts at assistant 5
  }
  SECTION("nothing new to summarise") {
    history = {entry(1, "s1", "user")};
    CHECK_FALSE(compaction_cut(history, "s1"));
  }
  SECTION("the model sees the latest summary, then what it does not cover") {
    history.push_back(sluice::actors::compaction_entry({}, "the gist", 2, 0));
    history.back().position = 4;
    history.push_back(entry(5, "s2", "assistant"));
    const auto items = model_conversation(history, history.size());
    REQUIRE(items.size() == 3);
    CHECK(items[0].type == "user");
    CHECK(items[0].text.find("the gist") != std::string::npos);
    CHECK(items[1].text == "user3");
    CHECK(items[2].text == "assistant5");
  }
}
