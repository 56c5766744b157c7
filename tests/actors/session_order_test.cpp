#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <thread>

#include "actors/history_helpers.hpp"
#include "support/http_client.hpp"
#include "support/node_fixture.hpp"

using namespace sluice::test;

namespace {
const HeaderList kJson = {{"Content-Type", "application/json"}};

std::string prompt_body(const std::string& message) {
  return nlohmann::json{{"message", message}}.dump();
}
}  // namespace

TEST_CASE(
    "50 concurrent clients x 20 messages to one session: each once, in order, never "
    "interleaved") {
  TestProject project;
  TestNode node(project.path());
  constexpr int kClients = 50;
  constexpr int kMessages = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client("127.0.0.1", node.port());
      for (int m = 0; m < kMessages; ++m) {
        const std::string text = "c" + std::to_string(c) + "-m" + std::to_string(m);
        auto response = client.request("POST", "/agents/echo/ordered", prompt_body(text), kJson);
        if (response.status != 200 || response.json()["result"] != text) ++failures;
      }
    });
  }
  for (auto& t : clients) t.join();
  REQUIRE(failures == 0);

  HttpClient reader("127.0.0.1", node.port());
  const auto entries = history(reader, "echo", "ordered");
  REQUIRE(entries.size() == kClients * kMessages * 2);
  std::map<std::string, int> seen;
  std::map<int, int> last_message_of_client;
  for (size_t i = 0; i < entries.size(); i += 2) {
    const auto& user = entries[i];
    const auto& reply = entries[i + 1];
    // A submission's entries are adjacent: its user message, then its reply.
    REQUIRE(user["type"] == "user");
    REQUIRE(reply["type"] == "assistant");
    REQUIRE(user["submissionId"] == reply["submissionId"]);
    REQUIRE(user["sequence"] == static_cast<int>(i / 2 + 1));
    REQUIRE(reply["sequence"] == user["sequence"]);
    REQUIRE(reply["text"] == user["text"]);
    const std::string text = user["text"];
    ++seen[text];
    const int client = std::stoi(text.substr(1, text.find('-') - 1));
    const int message = std::stoi(text.substr(text.find("-m") + 2));
    auto [it, first] = last_message_of_client.try_emplace(client, -1);
    CHECK(message == it->second + 1);  // each client's messages in its send order
    it->second = message;
  }
  CHECK(seen.size() == kClients * kMessages);
  for (const auto& [text, count] : seen) CHECK(count == 1);

  const auto records = submissions(reader, "echo", "ordered");
  REQUIRE(records.size() == kClients * kMessages);
  for (size_t i = 0; i < records.size(); ++i) {
    CHECK(records[i]["sequence"] == static_cast<int>(i + 1));
    CHECK(records[i]["state"] == "completed");
    CHECK(records[i]["attempts"] == 1);
  }
}

TEST_CASE("a slow session does not hold up another session's answer") {
  TestProject project(/*slow_delay_ms=*/3000);
  TestNode node(project.path());
  std::atomic<bool> slow_answered{false};
  std::thread slow([&] {
    HttpClient client("127.0.0.1", node.port());
    auto response = client.request("POST", "/agents/slow/s1", prompt_body("slow one"), kJson);
    CHECK(response.status == 200);
    slow_answered = true;
  });
  // Wait until the slow submission is running, so the fast one truly overlaps it.
  HttpClient client("127.0.0.1", node.port());
  for (int i = 0; i < 200; ++i) {
    auto records = submissions(client, "slow", "s1");
    if (!records.empty() && records[0]["state"] == "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (int i = 0; i < 5; ++i) {
    auto fast = client.request("POST", "/agents/echo/other-" + std::to_string(i),
                               prompt_body("fast"), kJson);
    REQUIRE(fast.status == 200);
    CHECK(fast.json()["result"] == "fast");
  }
  CHECK_FALSE(slow_answered.load());  // every fast answer came while the slow turn still ran
  slow.join();
  CHECK(slow_answered.load());
}

TEST_CASE("a mixed burst of prompts and dispatches from many clients lands in sequence order") {
  TestProject project;
  TestNode node(project.path());
  constexpr int kClients = 16;
  constexpr int kPerClient = 25;
  constexpr int kSessions = 4;
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient client("127.0.0.1", node.port());
      for (int m = 0; m < kPerClient; ++m) {
        const std::string session = "s" + std::to_string((c + m) % kSessions);
        const std::string text = "c" + std::to_string(c) + "-m" + std::to_string(m);
        const bool dispatch = (c + m) % 2 == 0;
        const std::string body =
            dispatch ? nlohmann::json{{"input", text}, {"session", session}}.dump()
                     : nlohmann::json{{"message", text}, {"session", session}}.dump();
        auto response = client.request(
            "POST", std::string("/agents/echo/burst") + (dispatch ? "/dispatch" : ""), body, kJson);
        if (response.status != (dispatch ? 202 : 200)) ++failures;
      }
    });
  }
  for (auto& t : clients) t.join();
  REQUIRE(failures == 0);

  HttpClient reader("127.0.0.1", node.port());
  size_t total_user = 0;
  for (int s = 0; s < kSessions; ++s) {
    const std::string session = "s" + std::to_string(s);
    // Dispatches may still be processing: wait for every submission to settle.
    std::vector<nlohmann::json> records;
    for (int i = 0; i < 500; ++i) {
      records = submissions(reader, "echo", "burst", session);
      bool settled = true;
      for (auto& r : records) settled = settled && r["state"] == "completed";
      if (settled) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const auto entries = history(reader, "echo", "burst", session);
    long long previous_sequence = 0;
    long long previous_id = 0;
    for (const auto& entry : entries) {
      CHECK(entry["sequence"].get<long long>() >= previous_sequence);
      CHECK(entry["id"].get<long long>() == previous_id + 1);
      previous_sequence = entry["sequence"];
      previous_id = entry["id"];
      if (entry["type"] == "user") ++total_user;
    }
    CHECK(entries.size() == records.size() * 2);
  }
  CHECK(total_user == kClients * kPerClient);
}
